import { Counter, Gauge, type Registry } from 'prom-client';
import type { Client as PgClient } from 'pg';
import { outboxBacklog } from '../../db/outbox-relay-store';
import type { Logger } from '../../logger';
import { within } from '../../lib/wait';
import { errorText } from './util';

const METRICS_TIMEOUT_MS = 2_000;

export interface RelayMetrics {
  size: Gauge;
  lag: Gauge;
  parked: Gauge;
  leader: Gauge;
  published: Counter;
  failures: Counter;
  parkedTotal: Counter;
  pruned: Counter;
}

/**
 * The relay's metrics. Size, lag and parked rows are read from the table on scrape, at most once
 * per second however many gauges and scrapes ask, through the relay's own session (`client()`).
 */
export function createRelayMetrics(client: () => PgClient | null, logger: Logger): RelayMetrics {
  let cache: { at: number; value: Promise<void> } | null = null;
  const refresh = (): Promise<void> => {
    const now = Date.now();
    if (cache && now - cache.at < 1_000) return cache.value;
    const value = (async () => {
      const pg = client();
      if (!pg) return;
      try {
        const row = await within(outboxBacklog(pg), METRICS_TIMEOUT_MS);
        if (!row) return;
        metrics.size.set(row.size);
        metrics.lag.set(Math.max(0, row.lag ?? 0));
        metrics.parked.set(row.parked);
      } catch (err) {
        logger.debug({ err: errorText(err) }, 'outbox metrics not refreshed');
      }
    })();
    cache = { at: now, value };
    return value;
  };
  const metrics: RelayMetrics = {
    size: new Gauge({
      name: 'gateway_outbox_unpublished_events',
      help: 'Events in the outbox not yet published to Kafka (parked ones excluded)',
      registers: [],
      collect: refresh,
    }),
    lag: new Gauge({
      name: 'gateway_outbox_lag_seconds',
      help: 'Age of the oldest unpublished outbox event (0 when the outbox is empty)',
      registers: [],
      collect: refresh,
    }),
    parked: new Gauge({
      name: 'gateway_outbox_parked_events',
      help: 'Outbox events Kafka refused for good, kept unpublished for an operator (see docs/reliability.md)',
      registers: [],
      collect: refresh,
    }),
    leader: new Gauge({
      name: 'gateway_outbox_relay_active',
      help: '1 when this process is the active outbox publisher, 0 on standby',
      registers: [],
    }),
    published: new Counter({
      name: 'gateway_outbox_published_total',
      help: 'Events this process published to Kafka',
      registers: [],
    }),
    failures: new Counter({
      name: 'gateway_outbox_publish_failures_total',
      help: 'Failed publish attempts (one per event per attempt)',
      registers: [],
    }),
    parkedTotal: new Counter({
      name: 'gateway_outbox_parked_total',
      help: 'Events this process parked after Kafka refused them OUTBOX_MAX_REJECTIONS times',
      registers: [],
    }),
    pruned: new Counter({
      name: 'gateway_outbox_pruned_total',
      help: 'Published events this process deleted from the outbox after OUTBOX_RETENTION',
      registers: [],
    }),
  };
  metrics.leader.set(0);
  return metrics;
}

/** Adds the metrics to a registry (a no-op for those it already has). */
export function registerRelayMetrics(metrics: RelayMetrics, registry: Registry): void {
  for (const metric of Object.values(metrics)) {
    const name = (metric as unknown as { name: string }).name;
    if (!registry.getSingleMetric(name)) registry.registerMetric(metric as Gauge);
  }
}
