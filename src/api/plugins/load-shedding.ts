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
    await app.register(underPressure, {
      ...(maxDelay > 0 ? { maxEventLoopDelay: maxDelay } : {}),
      ...(maxHeap > 0 ? { maxHeapUsedBytes: maxHeap } : {}),
      sampleInterval: 250,
      pressureHandler: async (request) => {
        if (request.url.startsWith('/health/live')) return;
        throw new HttpError('overloaded', 'The gateway is overloaded; retry later', {
          headers: { 'retry-after': '2' },
        });
      },
    });
  },
  { name: 'load-shedding', dependencies: ['errors'] },
);
