import { logLevel, type LogEntry } from 'kafkajs';
import { createKafka } from '../../kafka/client';
import type { Logger } from '../../logger';
import type { OutboxRelayOptions } from './options';
import type { RelayProducer } from './round';

/** The relay's kafkajs producer: idempotent, acks=all, one request in flight. */
export function kafkaRelayProducer(options: OutboxRelayOptions, log: Logger): RelayProducer {
  const kafkaLog = log.child({ library: 'kafkajs' });
  // kafkajs logs every retry of an outage at error level; the relay reports outages itself.
  const kafka = createKafka(options.brokers, options.clientId, log, {
    retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 2_000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ log }: LogEntry) => {
        const { message, ...rest } = log;
        kafkaLog.debug(rest, message);
      },
  });
  // Bounded retries: the relay retries itself, with backoff, and rebuilds the producer after a
  // failure, so a batch is never stuck inside kafkajs while Kafka is down.
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: true,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2_000 },
  });
}
