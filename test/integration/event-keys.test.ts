import type { EachMessagePayload } from 'kafkajs';
import { createKafka } from '../../src/kafka/client';
import { createLogger } from '../../src/logger';
import { call, startAuthStack, type AuthStack } from '../support/auth-gateway';
import { testConfig, uniqueSuffix, waitFor } from '../support/stack';

jest.setTimeout(120_000);

interface Seen {
  key: Buffer | null;
  envelope: { event_type: string; request_id: string; data: Record<string, unknown> };
}

/** events.md, Envelope: "no key when that id is null" — seen on the topic, not in the outbox. */
describe('an event without a subject', () => {
  const suffix = uniqueSuffix();
  const topic = `test-auth-events-keys-${suffix}`;
  const seen: Seen[] = [];
  const kafka = createKafka(testConfig().KAFKA_BOOTSTRAP_SERVERS, 'test-event-keys', createLogger('silent'));
  const consumer = kafka.consumer({ groupId: `test-event-keys-${suffix}`, maxWaitTimeInMs: 100 });
  let s: AuthStack;

  beforeAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    await admin.disconnect();
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }: EachMessagePayload) => {
        seen.push({ key: message.key, envelope: JSON.parse(String(message.value)) as Seen['envelope'] });
      },
    });
    s = await startAuthStack({ KAFKA_AUTH_EVENTS_TOPIC: topic, OUTBOX_POLL_INTERVAL_MS: '100' });
  });

  afterAll(async () => {
    await consumer.disconnect();
    await s.close();
  });

  it('goes to Kafka without a key; one with a subject is keyed by it', async () => {
    const headers = { 'x-internal-key': 'test-internal-key' };
    const invalid = await call(s.gw.url, 'GET', '/auth/validate', {
      headers: { ...headers, authorization: 'Bearer not-a-token', 'x-request-id': `invalid-${suffix}` },
    });
    expect(invalid.body).toMatchObject({ valid: false });

    // A valid token, issued by the auth fake directly.
    const issued = await call(s.fake.url, 'POST', '/v1/client/sign-up', {
      body: { email: `keys-${suffix}@example.com`, password: 'keys-pass-123', full_name: 'Keys' },
    });
    const valid = await call(s.gw.url, 'GET', '/auth/validate', {
      headers: { ...headers, authorization: `Bearer ${issued.body.access_token}`, 'x-request-id': `valid-${suffix}` },
    });
    expect(valid.body).toMatchObject({ valid: true });

    const [noSubject, subject] = await waitFor('both events on the topic', async () => {
      const a = seen.find((e) => e.envelope.request_id === `invalid-${suffix}`);
      const b = seen.find((e) => e.envelope.request_id === `valid-${suffix}`);
      return a && b ? [a, b] : undefined;
    });
    expect(noSubject.envelope).toMatchObject({ event_type: 'token_validated', data: { user_id: null, valid: false } });
    expect(noSubject.key).toBeNull();
    expect(subject.envelope).toMatchObject({ event_type: 'token_validated', data: { user_id: valid.body.sub } });
    expect(subject.key?.toString()).toBe(valid.body.sub);
  });
});
