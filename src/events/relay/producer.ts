// Before kafkajs: see src/kafka/fixes.ts.
import '../../kafka/fixes';
import { logLevel, type LogEntry } from 'kafkajs';
import { createKafka } from '../../kafka/client';
import { murmur2Partitioner } from '../../kafka/partitioner';
import { within } from '../../lib/wait';
import type { Logger } from '../../logger';
import type { RelayProducer } from './round';

/**
 * The kafkajs producer of the event paths (the outbox relay and the access events): idempotent,
 * acks=all, one request in flight. Their callers report outages themselves, so kafkajs' own retry
 * lines go to debug. Keys are partitioned as kafkajs' default (Java-compatible) partitioner does,
 * with a cheaper hash (src/kafka/partitioner.ts).
 */
export function eventProducer(brokers: string[], clientId: string, log: Logger): RelayProducer {
  const kafkaLog = log.child({ library: 'kafkajs' });
  const kafka = createKafka(brokers, clientId, log, {
    retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 2_000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ log }: LogEntry) => {
        const { message, ...rest } = log;
        kafkaLog.debug(rest, message);
      },
  });
  // Bounded retries: the callers retry with backoff and rebuild the producer after a failure, so a
  // batch is never stuck inside kafkajs while Kafka is down.
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: true,
    createPartitioner: murmur2Partitioner,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2_000 },
  });
}

/** `make()`'s producer once connected; a producer that failed to connect is discarded. */
export async function connectedProducer(make: () => RelayProducer): Promise<RelayProducer> {
  const producer = make();
  try {
    await producer.connect();
  } catch (err) {
    void producer.disconnect().catch(() => undefined);
    throw err;
  }
  return producer;
}

/** Disconnects `producer` if there is one, waiting at most 2 s (a broker that is away never answers). */
export async function discardProducer(producer: RelayProducer | null): Promise<void> {
  if (producer)
    await within(
      producer.disconnect().catch(() => undefined),
      2_000,
    );
}
