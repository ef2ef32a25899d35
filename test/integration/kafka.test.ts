import type { EachMessagePayload } from 'kafkajs';
import { createKafka } from '../../src/kafka/client';
import { createLogger } from '../../src/logger';
import { testConfig, uniqueSuffix, waitFor } from '../support/stack';

jest.setTimeout(90_000);

describe('Kafka broker', () => {
  it('delivers produced messages to a consumer group, in order per key, and commits offsets', async () => {
    const config = testConfig();
    const kafka = createKafka(config.KAFKA_BOOTSTRAP_SERVERS, 'test-kafka', createLogger('silent'));
    const topic = `test-roundtrip-${uniqueSuffix()}`;
    const groupId = `test-group-${uniqueSuffix()}`;
    const admin = kafka.admin();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    try {
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
      await producer.connect();
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const received: { key: string; value: string; headers: string }[] = [];
      await consumer.run({
        eachMessage: async ({ message }: EachMessagePayload) => {
          received.push({
            key: String(message.key),
            value: String(message.value),
            headers: String(message.headers?.request_id),
          });
        },
      });
      const messages = Array.from({ length: 30 }, (_, i) => ({
        key: `user-${i % 3}`,
        value: JSON.stringify({ seq: i }),
        headers: { request_id: `r-${i}` },
      }));
      await producer.send({ topic, acks: -1, messages });
      await waitFor('30 messages', async () => received.length >= 30);
      expect(received).toHaveLength(30);
      for (const key of ['user-0', 'user-1', 'user-2']) {
        const seqs = received.filter((m) => m.key === key).map((m) => (JSON.parse(m.value) as { seq: number }).seq);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
        expect(seqs).toHaveLength(10);
      }
      expect(received.map((m) => m.headers)).toContain('r-7');
      // The group committed what it consumed.
      const committed = await waitFor('offsets committed', async () => {
        const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
        const total = offsets[0]!.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
        return total === 30 ? total : undefined;
      });
      expect(committed).toBe(30);
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    }
  });
});
