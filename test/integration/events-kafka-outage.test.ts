import { call, type AuthStack } from '../support/auth-gateway';
import { distinctEvents, readEvents, startAuthEventsStack } from '../support/events';
import { stackService, uniqueSuffix } from '../support/stack';

jest.setTimeout(240_000);

/**
 * events.md, Delivery: "A request whose only failure is 'Kafka is down' still succeeds; its events
 * go out when Kafka is back." 50 sign-ins while the broker is stopped, then every event exactly once.
 */
describe('domain events survive a Kafka outage', () => {
  const topic = `test-auth-events-${uniqueSuffix()}`;
  let s: AuthStack;

  beforeAll(async () => {
    s = await startAuthEventsStack(topic);
  });

  afterAll(async () => {
    await s.close();
  });

  it('answers 50 sign-ins while Kafka is stopped and publishes all 50 user_logged_in events once it is back', async () => {
    const user = s.fake.createUser({ email: `outage-${uniqueSuffix()}@example.com`, password: 'outage-pass-1' });
    await stackService('stop', 'kafka');
    const requestIds: string[] = [];
    try {
      for (let i = 0; i < 50; i++) {
        const res = await call(s.gw.url, 'POST', '/v1/client/sign-in/password', {
          body: { email: user.email, password: 'outage-pass-1' },
        });
        expect(res.status).toBe(200);
        requestIds.push(String(res.headers['x-request-id']));
      }
    } finally {
      await stackService('start', 'kafka');
    }

    const seen = await readEvents(topic, 50);
    // At least once: a redelivered copy keeps its event_id (events.md), so count distinct events.
    const logins = distinctEvents(seen, 'user_logged_in');
    expect(logins).toHaveLength(50);
    expect(logins.every((e) => e.key === user.sub)).toBe(true);
    expect(new Set(logins.map((e) => e.requestId))).toEqual(new Set(requestIds));
  });
});
