/**
 * The outbox relay with a producer that sends nothing: it takes the relay lock, reads every
 * unpublished row in order and marks it published, exactly as the worker's relay does, but hands
 * the batch to no Kafka client. Beside a gateway whose database it serves, it prices the event path
 * without the publish (the gateway's insert, the relay's SELECT and UPDATE), which is the most any
 * choice of Kafka producer in the relay could give. Never run it against a database whose events
 * matter: what it marks published is not in Kafka.
 *
 * `node dist/bench/sink-relay.js` with the gateway's environment (DATABASE_URL …). It prints
 * `sink relay leading` once it holds the lock, and the number of events it swallowed when SIGTERM
 * stops it.
 */
import { loadConfigOrExit } from '../src/config';
import { OutboxRelay, type RelayProducer } from '../src/events/relay';
import { createLogger } from '../src/logger';

const config = loadConfigOrExit();
const logger = createLogger(config.LOG_LEVEL, { role: 'sink-relay' });
let swallowed = 0;
const sink: RelayProducer = {
  connect: async () => undefined,
  disconnect: async () => undefined,
  sendBatch: async ({ topicMessages }) => {
    for (const t of topicMessages ?? []) swallowed += t.messages.length;
    return [];
  },
};
const relay = OutboxRelay.fromConfig(config, logger, { createProducer: () => sink });
relay.start();

const leading = setInterval(() => {
  if (!relay.isLeader) return;
  clearInterval(leading);
  process.stdout.write('sink relay leading\n');
}, 50);

const stop = () => {
  clearInterval(leading);
  void relay.stop().finally(() => {
    process.stdout.write(`sink relay stopped: ${swallowed} events marked published, none sent\n`);
    process.exit(0);
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
