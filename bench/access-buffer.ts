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
import { buildPublisher } from './lib/access-publisher';
import { arg } from './lib/args';

const EVENTS = Number(arg('events', '50000'));
const BUILD = resolve(arg('build', join(__dirname, '..')));

function collect(): NodeJS.MemoryUsage {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
  gc();
  return process.memoryUsage();
}

async function main(): Promise<void> {
  // Nothing listens on port 1: every event stays in the buffer.
  const publisher = buildPublisher(BUILD, {
    bootstrap: ['127.0.0.1:1'],
    clientId: 'access-buffer-bench',
    buffer: EVENTS,
    lingerMs: 1_000_000,
    drainTimeoutMs: 0,
  });
  const before = collect();
  const users = Array.from({ length: 100 }, () => randomUUID());
  for (let i = 0; i < EVENTS; i++) publisher.read(users[i % users.length]!, publisher.requestId(), '203.0.113.7');
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
