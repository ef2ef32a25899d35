import type { EachMessagePayload } from 'kafkajs';
import { createKafka } from '../../src/kafka/client';
import { createLogger } from '../../src/logger';
import { call, startAuthStack, type AuthStack } from '../support/auth-gateway';
import { stackService, testConfig, uniqueSuffix, waitFor } from '../support/stack';

jest.setTimeout(240_000);

/**
 * events.md, Delivery: "A request whose only failure is 'Kafka is down' still succeeds; its events
 * go out when Kafka is back." 50 sign-ins while the broker is stopped, then every event exactly once.
 */
describe('domain events survive a Kafka outage', () => {
  const topic = `test-auth-events-${uniqueSuffix()}`;
  let s: AuthStack;

  beforeAll(async () => {
    // The topic exists before the outage, as it does in production.
    const admin = createKafka(
      testConfig().KAFKA_BOOTSTRAP_SERVERS,
      'test-outage-admin',
      createLogger('silent'),
    ).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    await admin.disconnect();
    s = await startAuthStack({
      KAFKA_AUTH_EVENTS_TOPIC: topic,
      RATE_LIMIT_AUTH_PER_IP: '1000',
      RATE_LIMIT_AUTH_PER_ACCOUNT: '1000',
      OUTBOX_POLL_INTERVAL_MS: '200',
    });
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

    const kafka = createKafka(s.gw.app.config.KAFKA_BOOTSTRAP_SERVERS, 'test-outage-consumer', createLogger('silent'));
    const consumer = kafka.consumer({ groupId: `test-outage-${uniqueSuffix()}`, maxWaitTimeInMs: 100 });
    const seen: { eventId: string; key: string; requestId: string; type: string }[] = [];
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }: EachMessagePayload) => {
          const env = JSON.parse(String(message.value));
          seen.push({
            eventId: env.event_id,
            key: String(message.key),
            requestId: String(message.headers?.request_id),
            type: env.event_type,
          });
        },
      });
      await waitFor('50 events on the topic', async () => seen.length >= 50, 120_000, 500);
      // Give a duplicate, if any, time to show up.
      await new Promise((r) => setTimeout(r, 2000));
    } finally {
      await consumer.disconnect();
    }
    const logins = seen.filter((e) => e.type === 'user_logged_in');
    expect(logins).toHaveLength(50);
    expect(new Set(logins.map((e) => e.eventId)).size).toBe(50);
    expect(logins.every((e) => e.key === user.sub)).toBe(true);
    expect(new Set(logins.map((e) => e.requestId))).toEqual(new Set(requestIds));
  });
});
