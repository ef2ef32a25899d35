import type { EachMessagePayload } from 'kafkajs';
import { BatchingProducer } from '../../src/kafka/batching-producer';
import { createKafka } from '../../src/kafka/client';
import { createLogger } from '../../src/logger';
import { testConfig, uniqueSuffix, waitFor } from '../support/stack';

jest.setTimeout(90_000);

describe('BatchingProducer', () => {
  it('sends concurrent messages in few produce requests, in order per key, and fails only a refused record', async () => {
    const kafka = createKafka(testConfig().KAFKA_BOOTSTRAP_SERVERS, 'test-batching', createLogger('silent'));
    const topic = `test-batching-${uniqueSuffix()}`;
    const admin = kafka.admin();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const consumer = kafka.consumer({ groupId: `test-batching-${uniqueSuffix()}`, maxWaitTimeInMs: 100 });
    let produceRequests = 0;
    producer.on(producer.events.REQUEST, (e: { payload: { apiName: string } }) => {
      if (e.payload.apiName === 'Produce') produceRequests += 1;
    });
    try {
      await admin.connect();
      await admin.createTopics({
        topics: [{ topic, numPartitions: 3, configEntries: [{ name: 'max.message.bytes', value: '200000' }] }],
        waitForLeaders: true,
      });
      await producer.connect();
      const batching = new BatchingProducer(() => producer, { acks: -1 });

      // 200 callers at once, as 200 concurrent chat requests would; one record is too large for
      // the topic (and above maxBatchBytes, so it travels alone).
      const sends = Array.from({ length: 200 }, (_, i) =>
        batching.send(topic, { key: `user-${i % 4}`, value: JSON.stringify({ seq: i }) }),
      );
      const tooLarge = batching.send(topic, { key: 'user-0', value: 'x'.repeat(300_000) });
      const outcomes = await Promise.allSettled([...sends, tooLarge]);
      const failed = outcomes
        .slice(0, 200)
        .flatMap((o, i) => (o.status === 'rejected' ? [`${i}: ${String(o.reason)}`] : []));
      expect(failed).toEqual([]);
      expect(outcomes[200]).toMatchObject({ status: 'rejected' });
      // kafkajs alone makes one request per send(); here the 200 small ones share a few.
      expect(produceRequests).toBeLessThanOrEqual(5);
      // The refusal leaves the producer usable on that partition.
      await batching.send(topic, { key: 'user-0', value: JSON.stringify({ seq: 200 }) });

      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const received: { key: string; seq: number }[] = [];
      await consumer.run({
        eachMessage: async ({ message }: EachMessagePayload) => {
          received.push({ key: String(message.key), seq: (JSON.parse(String(message.value)) as { seq: number }).seq });
        },
      });
      await waitFor('201 messages', async () => received.length >= 201);
      await new Promise((r) => setTimeout(r, 500));
      expect(received).toHaveLength(201);
      for (let k = 0; k < 4; k++) {
        const seqs = received.filter((m) => m.key === `user-${k}`).map((m) => m.seq);
        expect(seqs).toEqual([...Array.from({ length: 50 }, (_, i) => i * 4 + k), ...(k === 0 ? [200] : [])]);
      }
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    }
  });
});
