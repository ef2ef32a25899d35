import { call, type AuthStack } from '../support/auth-gateway';
import { distinctEvents, readEvents, startAuthEventsStack } from '../support/events';
import { stackService, uniqueSuffix, waitFor } from '../support/stack';

jest.setTimeout(240_000);

const STALENESS_MS = 8_000;

/**
 * While PostgreSQL is away, direct routes keep answering and hold their events in memory; once
 * the bounded buffer (OUTBOX_WRITE_BUFFER_EVENTS) is full they answer 503 instead of dropping an
 * event, and every held event is written and published once PostgreSQL is back. Authenticated
 * routes trust the in-memory logout denylist for DENYLIST_MAX_STALENESS, then fail closed; logout
 * itself answers 503 throughout, so no logout is lost.
 */
describe('domain events survive a PostgreSQL outage', () => {
  const topic = `test-auth-events-pg-${uniqueSuffix()}`;
  let s: AuthStack;

  beforeAll(async () => {
    s = await startAuthEventsStack(topic, {
      OUTBOX_WRITE_BUFFER_EVENTS: '3',
      DENYLIST_MAX_STALENESS: `${STALENESS_MS}ms`,
    });
  });

  afterAll(async () => {
    await s?.close();
  });

  it('answers while the buffer has room, then 503 with nothing dropped, and publishes the held events after', async () => {
    const user = s.fake.createUser({ email: `pg-outage-${uniqueSuffix()}@example.com`, password: 'outage-pass-1' });
    const signIn = () =>
      call(s.gw.url, 'POST', '/v1/client/sign-in/password', { body: { email: user.email, password: 'outage-pass-1' } });

    const first = await signIn();
    expect(first.status).toBe(200);
    const second = await signIn();
    expect(second.status).toBe(200);
    const answered: string[] = [String(first.headers['x-request-id']), String(second.headers['x-request-id'])];
    const me = (token: string) => call(s.gw.url, 'GET', '/v1/client/me', { token });
    const logout = (token: string) => call(s.gw.url, 'POST', '/v1/client/logout', { token, body: {} });
    let refused: Awaited<ReturnType<typeof signIn>> | undefined;
    let stale: Awaited<ReturnType<typeof signIn>> | undefined;
    let loggedOut: Awaited<ReturnType<typeof signIn>> | undefined;
    let meRefused: Awaited<ReturnType<typeof signIn>> | undefined;
    let refusedAfterMs = 0;
    const stoppedAt = Date.now();
    await stackService('stop', 'postgres');
    try {
      // Within the staleness bound the in-memory denylist answers; a logout cannot be recorded.
      stale = await me(first.body.access_token);
      loggedOut = await logout(second.body.access_token);
      // Past the bound, authenticated routes fail closed.
      meRefused = await waitFor(
        'GET /me refused',
        async () => {
          const res = await me(first.body.access_token);
          return res.status === 503 ? res : undefined;
        },
        STALENESS_MS + 15_000,
        250,
      );
      refusedAfterMs = Date.now() - stoppedAt;
      for (let i = 0; i < 3; i++) {
        const res = await signIn();
        expect(res.status).toBe(200);
        answered.push(String(res.headers['x-request-id']));
      }
      expect(s.gw.app.deps.outboxWriter.pending).toBe(3);
      refused = await signIn();
    } finally {
      await stackService('start', 'postgres');
    }
    expect(stale.status).toBe(200);
    expect(loggedOut.status).toBe(503);
    expect(loggedOut.headers['retry-after']).toBe('5');
    expect(loggedOut.body).toMatchObject({
      code: 'upstream_unavailable',
      request_id: loggedOut.headers['x-request-id'],
    });
    expect(meRefused.body).toMatchObject({ code: 'upstream_unavailable' });
    expect(refusedAfterMs).toBeGreaterThanOrEqual(STALENESS_MS);
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.body).toMatchObject({ code: 'upstream_unavailable', request_id: refused.headers['x-request-id'] });

    await waitFor('the held events are written', async () => s.gw.app.deps.outboxWriter.pending === 0, 60_000, 200);
    const after = await signIn();
    expect(after.status).toBe(200);
    answered.push(String(after.headers['x-request-id']));
    // The refused logout was not recorded: the token still works, and logging out now does.
    expect((await me(second.body.access_token)).status).toBe(200);
    expect((await logout(second.body.access_token)).status).toBe(204);
    expect((await me(second.body.access_token)).status).toBe(401);

    const seen = await readEvents(topic, 7);
    // At least once: a redelivered copy keeps its event_id (events.md), so count distinct events.
    const logins = distinctEvents(seen, 'user_logged_in');
    expect(logins).toHaveLength(6);
    // Exactly the answered requests have events; the refused one has none.
    expect(new Set(logins.map((e) => e.requestId))).toEqual(new Set(answered));
    // One logout event: the one recorded after the outage, none for the refused one.
    expect(distinctEvents(seen, 'user_logged_out')).toHaveLength(1);
  });
});
