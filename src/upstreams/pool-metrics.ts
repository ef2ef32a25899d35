import { Counter, Gauge } from 'prom-client';

/** What the gauges read from a live pool. */
export interface MeasuredPool {
  readonly name: string;
  /** Calls handed to undici and not yet ended. */
  readonly inFlight: number;
  /** Calls waiting for one of the pool's connections (see Admission). */
  readonly waiting: number;
}

/** The pools of this process, from their creation to their close(). */
const pools = new Set<MeasuredPool>();

export function trackPool(pool: MeasuredPool): () => void {
  pools.add(pool);
  return () => pools.delete(pool);
}

/**
 * Read at each scrape: a pool with calls waiting has all its connections busy, and its callers wait
 * before their request is sent (past their deadline they answer 503 "… is busy", docs/reliability.md).
 * Pools of the same upstream (one per client in this process) are summed.
 */
function poolGauge(name: string, help: string, read: (pool: MeasuredPool) => number): Gauge<'upstream'> {
  return new Gauge({
    name,
    help,
    labelNames: ['upstream'],
    registers: [],
    collect() {
      this.reset();
      for (const pool of pools) this.inc({ upstream: pool.name }, read(pool));
    },
  });
}

/** Answers cut off at the pool's limit (AnswerTooLarge): a 502 each, logged as `upstream answer too large`. */
export const upstreamAnswersTooLarge = new Counter({
  name: 'gateway_upstream_answers_too_large_total',
  help: 'Upstream answers cut off because they were longer than the gateway reads from that upstream, per upstream',
  labelNames: ['upstream'],
  registers: [],
});

export const upstreamPoolGauges = [
  poolGauge(
    'gateway_upstream_pool_in_flight',
    'Upstream calls on a connection and not yet answered, per upstream',
    (pool) => pool.inFlight,
  ),
  poolGauge(
    'gateway_upstream_pool_waiting',
    'Upstream calls waiting for a free connection of their pool, per upstream',
    (pool) => pool.waiting,
  ),
];
