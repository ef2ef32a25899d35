import { Database } from '../../src/db/database';
import { call, startAuthWorkerStack, type AuthWorkerStack } from '../support/auth-gateway';
import { readEvents, startAuthEventsStack } from '../support/events';
import { testConfig, uniqueSuffix } from '../support/stack';

jest.setTimeout(120_000);

describe('per-key order across the sign-up answer (issue 17, item 3)', () => {
  const suffix = uniqueSuffix();
  const topic = `test-sign-up-order-${suffix}`;
  const overrides = {
    TEMPORAL_TASK_QUEUE: `test-sign-up-order-${suffix}`,
    KAFKA_AUTH_EVENTS_TOPIC: topic,
    INTERNAL_SERVICE_KEY: 'test-internal-key',
  };
  let s: AuthWorkerStack;
  let db: Database;

  beforeAll(async () => {
    s = await startAuthEventsStack(topic, overrides, startAuthWorkerStack);
    db = new Database(testConfig());
  });

  afterAll(async () => {
    await s.close();
    await db.close();
  });

  it('user_registered is committed before the 201, and precedes an immediate sign-in on the topic', async () => {
    const users: string[] = [];
    for (let i = 0; i < 3; i++) {
      const email = `order-${i}-${suffix}@example.com`;
      const password = `order-pass-${suffix}`;
      const signUp = await call(s.gw.url, 'POST', '/v1/client/sign-up', { body: { email, password } });
      expect(signUp.status).toBe(201);
      const userId = signUp.body.user.user_id as string;
      users.push(userId);
      // Read at once, no waiting: the answer implies the event is in the outbox.
      const rows = await db.execute(
        `select 1 from outbox_events where event_type = 'user_registered' and message_key = $1`,
        [userId],
      );
      expect(rows).toHaveLength(1);
      const signIn = await call(s.gw.url, 'POST', '/v1/client/sign-in/password', { body: { email, password } });
      expect(signIn.status).toBe(200);
    }
    const seen = await readEvents(topic, 6);
    for (const userId of users) {
      const types = seen.filter((e) => e.key === userId).map((e) => e.type);
      expect([...new Set(types)]).toEqual(['user_registered', 'user_logged_in']);
    }
  });
});
