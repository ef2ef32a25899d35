import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import { pendingMigrations } from '../../db/migration-status';
import { DEFAULT_RETRY_AFTER_SEC } from '../framework-errors';
import { InstanceReadiness, runProbes, type InstanceConditions } from '../health';

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

/** Not ready: the report plus the one error format (gateway-http.md), so every 503 reads alike. */
const NotReady = Type.Object({
  detail: Type.String(),
  code: Type.Literal('upstream_unavailable'),
  request_id: Type.String(),
  ...Readiness.properties,
});

function notReadyDetail(c: InstanceConditions): string {
  if (c.draining) return 'This instance is shutting down';
  if (!c.started) return 'This instance has not started yet';
  if (c.migrations !== 'applied') return `This instance cannot serve yet: database migrations ${c.migrations}`;
  return 'This instance is overloaded';
}

const healthRoutes: FastifyPluginAsync = async (app) => {
  const instance = new InstanceReadiness(() => pendingMigrations(app.deps.db));
  app.addHook('onListen', async () => {
    instance.started = true;
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
        response: { 200: Readiness, 503: NotReady },
      },
    },
    async (request, reply) => {
      const timeoutMs = app.config.HEALTH_CHECK_TIMEOUT_MS;
      instance.draining = app.shuttingDown;
      const [conditions, checks] = await Promise.all([
        instance.conditions(timeoutMs),
        runProbes(app.deps.probes, timeoutMs),
      ]);
      if (InstanceReadiness.isReady(conditions)) return reply.send({ status: 'ready', instance: conditions, checks });
      return reply
        .status(503)
        .header('retry-after', DEFAULT_RETRY_AFTER_SEC)
        .send({
          detail: notReadyDetail(conditions),
          code: 'upstream_unavailable',
          request_id: request.id,
          status: 'not_ready',
          instance: conditions,
          checks,
        });
    },
  );
};

export default healthRoutes;
