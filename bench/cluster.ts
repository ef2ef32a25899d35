/**
 * Several gateway processes on one port: `node dist/bench/cluster.js N [script]` forks N copies of
 * dist/src/api/server.js (or of `script`, e.g. the floor, for the same comparison) with
 * node:cluster (the primary accepts connections and hands them out round-robin, SCHED_RR, the
 * default on Linux). Fastify's `reusePort` is not exposed by the gateway's server.ts, so this is
 * the load balancer of the multi-process runs. SIGTERM stops all.
 */
import cluster from 'node:cluster';
import { resolve } from 'node:path';

const count = Number(process.argv[2] ?? '2');
if (!Number.isInteger(count) || count < 1 || count > 16) {
  process.stderr.write('usage: node dist/bench/cluster.js <processes 1..16> [script]\n');
  process.exit(2);
}
cluster.setupPrimary({ exec: resolve(process.argv[3] ?? resolve(__dirname, '../src/api/server.js')) });
for (let i = 0; i < count; i += 1) cluster.fork();

let stopping = false;
cluster.on('exit', (worker, code) => {
  if (!stopping) {
    process.stderr.write(`gateway worker ${worker.process.pid} exited (${code}); stopping the cluster\n`);
    stop();
  }
  if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(stopping ? 0 : 1);
});

function stop() {
  stopping = true;
  for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
