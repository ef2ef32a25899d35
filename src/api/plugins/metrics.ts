import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { HttpRequestMetrics } from '../http-metrics';
import { upstreamAnswersTooLarge, upstreamPoolGauges } from '../../upstreams/pool-metrics';
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
    const http = new HttpRequestMetrics();
    registry.registerMetric(http.duration);
    registry.registerMetric(http.total);
    registry.registerMetric(upstreamRepliesRefused);
    registry.registerMetric(upstreamAnswersTooLarge);
    for (const gauge of upstreamPoolGauges) registry.registerMetric(gauge);
    app.decorate('metrics', registry);

    app.requestSteps.onResponse.push((request: FastifyRequest, reply: FastifyReply) => {
      http.record(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    });
  },
  { name: 'metrics', dependencies: ['request-hooks'] },
);
