import fp from 'fastify-plugin';
import { HttpError } from '../../errors';

declare module 'fastify' {
  interface FastifyInstance {
    /** True from the start of close(): new requests are refused, readiness reports draining. */
    shuttingDown: boolean;
  }
}

/** The instance is going away: a client should go to another replica, or come back shortly. */
const CLOSING_RETRY_AFTER_SEC = '1';

/**
 * Requests that arrive once the server is closing answer 503 in the one error format, with
 * Retry-After and `Connection: close`, before any other work (Fastify's own return503OnClosing,
 * turned off in serverOptions, answered a body of its own without either). Requests in flight
 * finish; /health/* still answers, so probes see the instance draining.
 */
export default fp(
  async (app) => {
    app.decorate('shuttingDown', false);
    app.addHook('preClose', async () => {
      app.shuttingDown = true;
    });
    app.requestSteps.onRequest.push((request, reply) => {
      if (!app.shuttingDown || request.url.startsWith('/health/')) return;
      void reply.header('connection', 'close');
      throw new HttpError('upstream_unavailable', 'The gateway is shutting down', {
        headers: { 'retry-after': CLOSING_RETRY_AFTER_SEC },
      });
    });
  },
  { name: 'closing', dependencies: ['request-hooks'] },
);
