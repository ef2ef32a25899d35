import fp from 'fastify-plugin';
import { redactUrl } from '../../logger';

/** `X-Request-Id` on every response and one access-log line per request, query secrets redacted. */
export default fp(
  async (app) => {
    app.addHook('onRequest', async (request, reply) => {
      void reply.header('x-request-id', request.id);
    });
    app.addHook('onResponse', async (request, reply) => {
      // Query strings may carry tokens (/auth/validate?token=): never log them raw.
      request.log.info(
        {
          method: request.method,
          url: redactUrl(request.url),
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 10) / 10,
        },
        'request completed',
      );
    });
  },
  { name: 'access-log' },
);
