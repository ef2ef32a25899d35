import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { redactUrl, type Logger } from '../../logger';

function setRequestId(request: FastifyRequest, reply: FastifyReply): void {
  void reply.header('x-request-id', request.id);
}

function logLine(request: FastifyRequest, reply: FastifyReply): void {
  // Built only when the line is written (LOG_LEVEL=info or lower).
  if ((request.log as Partial<Logger>).isLevelEnabled?.('info') === false) return;
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
}

/** `X-Request-Id` on every response and one access-log line per request, query secrets redacted. */
export default fp(
  async (app) => {
    app.requestSteps.onRequest.push(setRequestId);
    app.requestSteps.onResponse.push(logLine);
  },
  { name: 'access-log', dependencies: ['request-hooks'] },
);
