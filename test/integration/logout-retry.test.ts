import { Database } from '../../src/db/database';
import { call, startAuthStack, type AuthStack } from '../support/auth-gateway';
import { testConfig, waitFor } from '../support/stack';

jest.setTimeout(60_000);

describe('logout retried after an upstream failure (issue 17, item 5)', () => {
  let s: AuthStack;
  let db: Database;

  beforeAll(async () => {
    s = await startAuthStack({ AUTH_SERVICE_RETRIES: '0' });
    db = new Database(testConfig());
  });

  afterAll(async () => {
    await s.close();
    await db.close();
  });

  it('the retry finds the token revoked, still records user_logged_out once for its subject', async () => {
    const user = s.fake.createUser({ email: 'logout-retry@example.com', password: 'logout-pass-1' });
    const signIn = await call(s.gw.url, 'POST', '/v1/client/sign-in/password', {
      body: { email: 'logout-retry@example.com', password: 'logout-pass-1' },
    });
    expect(signIn.status).toBe(200);
    const logout = () =>
      call(s.gw.url, 'POST', '/v1/client/logout', {
        token: signIn.body.access_token,
        body: { refresh_token: signIn.body.refresh_token },
      });

    s.fake.failNext(1, 503, { match: { path: '/v1/client/logout' } });
    const failed = await logout();
    expect(failed.status).toBeGreaterThanOrEqual(502);
    // The access token was revoked before the upstream call failed.
    expect((await call(s.gw.url, 'GET', '/v1/client/me', { token: signIn.body.access_token })).status).toBe(401);

    const retried = await logout();
    expect(retried.status).toBe(204);
    expect(s.fake.sessionsOf(user.sub)).toHaveLength(0);
    // A client repeating a logout that succeeded adds nothing either.
    expect((await logout()).status).toBe(204);

    const rows = await waitFor('user_logged_out in the outbox', async () => {
      const r = await db.execute<{ event_id: string }[]>(
        `select event_id from outbox_events where event_type = 'user_logged_out' and message_key = $1`,
        [user.sub],
      );
      return r.length ? r : undefined;
    });
    expect(rows).toHaveLength(1);
  });
});
