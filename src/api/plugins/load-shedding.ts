import fp from 'fastify-plugin';
import underPressure from '@fastify/under-pressure';
import type { Config } from '../../config';
import { HttpError } from '../../errors';

export interface LoadSheddingOptions {
  config: Pick<Config, 'LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS' | 'LOAD_SHED_MAX_HEAP_USED_BYTES'>;
}

/**
 * Load shedding with @fastify/under-pressure: while the event loop lags (or the heap is over its
 * limit) new requests get 503 `overloaded` with Retry-After in the error format at once, instead of
 * queueing behind the lag. Liveness still answers, so an orchestrator does not restart a busy replica.
 */
export default fp<LoadSheddingOptions>(
  async (app, { config }) => {
    const maxDelay = config.LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS;
    const maxHeap = config.LOAD_SHED_MAX_HEAP_USED_BYTES;
    if (maxDelay === 0 && maxHeap === 0) return;
    const sampleInterval = Math.max(1_000, maxDelay);
    // Start-up (loading modules, connecting) stalls the loop once: only samples taken after the
    // app is ready count.
    let armed = false;
    app.addHook('onReady', async () => {
      setTimeout(() => (armed = true), 2 * sampleInterval).unref();
    });
    await app.register(underPressure, {
      ...(maxDelay > 0 ? { maxEventLoopDelay: maxDelay } : {}),
      ...(maxHeap > 0 ? { maxHeapUsedBytes: maxHeap } : {}),
      // A window with no event-loop tick at all counts as infinite delay: one blocking JSON.parse
      // of a large document must not empty a window, so windows are at least the threshold long.
      sampleInterval,
      pressureHandler: async (request) => {
        if (!armed || request.url.startsWith('/health/live')) return;
        throw new HttpError('overloaded', 'The gateway is overloaded; retry later', {
          headers: { 'retry-after': '2' },
        });
      },
    });
  },
  { name: 'load-shedding', dependencies: ['errors'] },
);
