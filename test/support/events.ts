import type { EachMessagePayload } from 'kafkajs';
import { createKafka } from '../../src/kafka/client';
import { createLogger } from '../../src/logger';
import { startAuthStack, type AuthStack } from './auth-gateway';
import { testConfig, uniqueSuffix, waitFor } from './stack';

export interface SeenEvent {
  eventId: string;
  key: string;
  requestId: string;
  type: string;
}

const kafka = () => createKafka(testConfig().KAFKA_BOOTSTRAP_SERVERS, 'test-events', createLogger('silent'));

/** Creates a topic with 3 partitions, as production topics exist before the gateway runs. */
export async function createTopic(topic: string): Promise<void> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Reads a domain-event topic from the beginning until it holds at least `count` distinct events
 * (by event_id), then a little longer so that a duplicate, if any, shows up too. Delivery is at
 * least once (events.md): a relay stopped between Kafka's ack and its UPDATE sends a row again,
 * with the same event_id.
 */
export async function readEvents(topic: string, count: number, timeoutMs = 120_000): Promise<SeenEvent[]> {
  const consumer = kafka().consumer({ groupId: `test-events-${uniqueSuffix()}`, maxWaitTimeInMs: 100 });
  const seen: SeenEvent[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }: EachMessagePayload) => {
        const env = JSON.parse(String(message.value)) as { event_id: string; event_type: string };
        seen.push({
          eventId: env.event_id,
          key: String(message.key),
          requestId: String(message.headers?.request_id),
          type: env.event_type,
        });
      },
    });
    await waitFor(
      `${count} events on ${topic}`,
      async () => new Set(seen.map((e) => e.eventId)).size >= count,
      timeoutMs,
      500,
    );
    await new Promise((r) => setTimeout(r, 2000));
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

/**
 * An auth stack (fake + gateway) whose auth events go to a fresh topic, created first as in
 * production, with auth rate limits out of the way of tests that sign in many times; with a worker
 * too when `start` is startAuthWorkerStack.
 */
export async function startAuthEventsStack<S extends AuthStack = AuthStack>(
  topic: string,
  overrides: Record<string, string> = {},
  start: (overrides: Record<string, string>) => Promise<S> = startAuthStack as never,
): Promise<S> {
  await createTopic(topic);
  return start({
    KAFKA_AUTH_EVENTS_TOPIC: topic,
    RATE_LIMIT_AUTH_PER_IP: '1000',
    RATE_LIMIT_AUTH_PER_ACCOUNT: '1000',
    OUTBOX_POLL_INTERVAL_MS: '200',
    ...overrides,
  });
}

/**
 * The distinct events of a type, after checking that every redelivered copy is the same event
 * (same key and request id as the first copy of its event_id).
 */
export function distinctEvents(seen: SeenEvent[], type: string): SeenEvent[] {
  const first = new Map<string, SeenEvent>();
  for (const e of seen.filter((x) => x.type === type)) {
    const earlier = first.get(e.eventId);
    if (!earlier) first.set(e.eventId, e);
    else if (earlier.key !== e.key || earlier.requestId !== e.requestId) {
      throw new Error(`event ${e.eventId} was delivered twice with different contents`);
    }
  }
  return [...first.values()];
}

/** The fields of every domain-event envelope, in the order events.md gives them. */
export const ENVELOPE_FIELDS = [
  'event_id',
  'event_type',
  'version',
  'occurred_at',
  'source',
  'request_id',
  'actor',
  'data',
] as const;
