import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { upstreamPoolGauges } from '../../upstreams/pool-metrics';
import { upstreamRepliesRefused } from '../../upstreams/replies';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Registry;
  }
}

/** Prometheus metrics (served at /metrics by the admin listener): process defaults plus request counts and latency per route. */
export default fp(
  async (app) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const duration = new Histogram({
      name: 'gateway_http_request_duration_seconds',
      help: 'HTTP request latency by route template, method and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    const total = new Counter({
      name: 'gateway_http_requests_total',
      help: 'HTTP requests by route template, method and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    });
    registry.registerMetric(upstreamRepliesRefused);
    for (const gauge of upstreamPoolGauges) registry.registerMetric(gauge);
    app.decorate('metrics', registry);

    app.requestSteps.onResponse.push((request: FastifyRequest, reply: FastifyReply) => {
      const labels = {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      };
      duration.observe(labels, reply.elapsedTime / 1000);
      total.inc(labels);
    });
  },
  { name: 'metrics', dependencies: ['request-hooks'] },
);
