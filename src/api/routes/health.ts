import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import { pendingMigrations } from '../../db/migration-status';
import { InstanceReadiness, runProbes } from '../health';

const ProbeResult = Type.Object({
  status: Type.Union([Type.Literal('up'), Type.Literal('down')]),
  latency_ms: Type.Number(),
  error: Type.Optional(Type.String()),
});

const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]),
  instance: Type.Object({
    started: Type.Boolean(),
    migrations: Type.Union([Type.Literal('applied'), Type.Literal('pending'), Type.Literal('unknown')]),
    draining: Type.Boolean(),
    overloaded: Type.Boolean(),
  }),
  checks: Type.Record(Type.String(), ProbeResult, {
    description: 'Every dependency by name (postgres, kafka, temporal, auth-service, chat-service, …), for information',
  }),
});

const healthRoutes: FastifyPluginAsync = async (app) => {
  const instance = new InstanceReadiness(() => pendingMigrations(app.deps.orm));
  app.addHook('onListen', async () => {
    instance.started = true;
  });
  app.addHook('preClose', async () => {
    instance.draining = true;
  });
  app.addHook('onClose', async () => instance.close());

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
          'This instance can serve (started, migrations applied, not draining, not overloaded); dependencies reported for information',
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_request, reply) => {
      const timeoutMs = app.config.HEALTH_CHECK_TIMEOUT_MS;
      const [conditions, checks] = await Promise.all([
        instance.conditions(timeoutMs),
        runProbes(app.deps.probes, timeoutMs),
      ]);
      const ready = InstanceReadiness.isReady(conditions);
      return reply
        .status(ready ? 200 : 503)
        .send({ status: ready ? 'ready' : 'not_ready', instance: conditions, checks });
    },
  );
};

export default healthRoutes;
