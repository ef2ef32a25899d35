import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import { runProbes } from '../health';

const ProbeResult = Type.Object({
  status: Type.Union([Type.Literal('up'), Type.Literal('down')]),
  critical: Type.Boolean(),
  latency_ms: Type.Number(),
  error: Type.Optional(Type.String()),
});

const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]),
  checks: Type.Record(Type.String(), ProbeResult),
});

const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get(
    '/health/live',
    {
      schema: {
        tags: ['operations'],
        summary: 'The process is up',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/health/ready',
    {
      schema: {
        tags: ['operations'],
        summary:
          'PostgreSQL, Kafka and Temporal reachable (503 naming the one that is not); upstream services for information',
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_request, reply) => {
      const { ready, checks } = await runProbes(app.deps.probes, app.config.HEALTH_CHECK_TIMEOUT_MS);
      return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
    },
  );
};

export default healthRoutes;
