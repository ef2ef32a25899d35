import { Counter, Gauge, Histogram, type Metric, type Registry } from 'prom-client';

export type ChatMetrics = ReturnType<typeof createChatMetrics>;

/** The chat client's metrics, registered in `registry` (the API passes its /metrics registry). */
export function createChatMetrics(registry: Registry) {
  const registers = [registry];
  return {
    requests: new Counter({
      name: 'gateway_chat_requests_total',
      help: 'Chat requests over Kafka by operation and outcome (success, an HTTP error code)',
      labelNames: ['operation', 'outcome'] as const,
      registers,
    }),
    duration: new Histogram({
      name: 'gateway_chat_request_duration_seconds',
      help: 'Time from sending a chat request to its reply (streams: to the end)',
      labelNames: ['operation'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60],
      registers,
    }),
    dropped: new Counter({
      name: 'gateway_chat_replies_dropped_total',
      help: 'Replies dropped: malformed, unknown (not pending here), duplicate, late (after the deadline)',
      labelNames: ['reason'] as const,
      registers,
    }),
    pending: new Gauge({
      name: 'gateway_chat_pending_requests',
      help: 'Chat requests and streams waiting for a reply in this process',
      registers,
    }),
  };
}

/** Registers the metrics in another registry too, once. */
export function registerChatMetrics(metrics: ChatMetrics, registry: Registry): void {
  for (const metric of Object.values(metrics) as Metric[]) {
    const name = (metric as unknown as { name: string }).name;
    if (!registry.getSingleMetric(name)) registry.registerMetric(metric);
  }
}
