/**
 * What buffered access events cost in memory while Kafka is away: one AccessEventPublisher pointed
 * at a port where nothing listens, N `user_info_requested` events published (the buffer's size), each
 * with a request id made as the build makes them,
 * then V8's heap and the ArrayBuffers outside it, after a full collection, against the same process
 * before. Runs the gateway build in `dist` (or `--build=DIR`, another build's output, e.g. a copy
 * made from main) with `node --expose-gc`:
 *
 *   node --expose-gc dist/bench/access-buffer.js [--events=50000] [--build=dist/base]
 */
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';

const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const EVENTS = Number(arg('events', '50000'));
const BUILD = resolve(arg('build', join(__dirname, '..')));

interface Publisher {
  publish(...args: unknown[]): void;
  pending: number;
  close(): Promise<void>;
}

function collect(): NodeJS.MemoryUsage {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
  gc();
  return process.memoryUsage();
}

async function main(): Promise<void> {
  /* eslint-disable-next-line @typescript-eslint/no-require-imports */
  const { AccessEventPublisher } = require(join(BUILD, 'src/events/access-events')) as {
    AccessEventPublisher: new (options: object) => Publisher;
  };
  const silent = { child: () => silent, warn: () => undefined, info: () => undefined, error: () => undefined };
  const publisher = new AccessEventPublisher({
    config: {
      KAFKA_BOOTSTRAP_SERVERS: '127.0.0.1:1',
      KAFKA_CLIENT_ID: 'access-buffer-bench',
      KAFKA_AUTH_EVENTS_TOPIC: 'auth-events',
      KAFKA_USER_EVENTS_TOPIC: 'user-events',
      KAFKA_ORGANIZATION_EVENTS_TOPIC: 'organization-events',
      ACCESS_EVENTS_BUFFER: EVENTS,
      ACCESS_EVENTS_LINGER_MS: 1_000_000,
    },
    logger: silent,
    drainTimeoutMs: 0,
  });
  // Request ids as the build makes them (src/lib/uuid.ts; builds before it used crypto.randomUUID).
  let requestId: () => string = randomUUID;
  try {
    /* eslint-disable-next-line @typescript-eslint/no-require-imports */
    requestId = (require(join(BUILD, 'src/lib/uuid')) as { randomUuid: () => string }).randomUuid;
  } catch {
    // an older build
  }
  const before = collect();
  const users = Array.from({ length: 100 }, () => randomUUID());
  const eventType = 'user_info_requested';
  for (let i = 0; i < EVENTS; i++) {
    const user = users[i % users.length]!;
    const data = { user_id: user };
    // Builds before the flat queue took one input object with an actor.
    if (publisher.publish.length === 1)
      publisher.publish({ eventType, data, requestId: requestId(), actor: { user_id: user, ip: '203.0.113.7' } });
    else publisher.publish(eventType, data, requestId(), user, '203.0.113.7');
  }
  const after = collect();
  const perEvent = (key: 'heapUsed' | 'arrayBuffers') => Math.round((after[key] - before[key]) / EVENTS);
  const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  console.log(
    JSON.stringify({
      build: BUILD,
      events: EVENTS,
      buffered: publisher.pending,
      heap_mb: mb(after.heapUsed - before.heapUsed),
      outside_heap_mb: mb(after.arrayBuffers - before.arrayBuffers),
      heap_bytes_per_event: perEvent('heapUsed'),
      outside_heap_bytes_per_event: perEvent('arrayBuffers'),
      rss_mb: mb(after.rss - before.rss),
    }),
  );
  await publisher.close();
}

void main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
