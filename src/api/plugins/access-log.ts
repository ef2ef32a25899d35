import fp from 'fastify-plugin';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { redactUrl, type Logger } from '../../logger';

function setRequestId(request: FastifyRequest, reply: FastifyReply): void {
  void reply.header('x-request-id', request.id);
}

/**
 * The access line's own logger, made once: the root's bindings, format and destination without its
 * redaction. The line's fields are fixed and hold no secret (the URL is redacted below); pino's
 * redaction ran each of them through the `*.` paths of src/logger.ts, about 45 µs a line, and the
 * line needed a per-request child (docs/performance.md).
 */
function accessLogger(root: FastifyBaseLogger): FastifyBaseLogger {
  return root.child({}, { level: 'info', redact: [] });
}

function lineWriter(log: FastifyBaseLogger) {
  return (request: FastifyRequest, reply: FastifyReply): void => {
    // Built only when the line is written (LOG_LEVEL=info or lower, or the route's own level).
    if ((request.log as Partial<Logger>).isLevelEnabled?.('info') === false) return;
    // Query strings may carry tokens (/auth/validate?token=): never log them raw.
    log.info(
      {
        request_id: request.id,
        method: request.method,
        url: redactUrl(request.url),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request completed',
    );
  };
}

/** `X-Request-Id` on every response and one access-log line per request, query secrets redacted. */
export default fp(
  async (app) => {
    app.requestSteps.onRequest.push(setRequestId);
    app.requestSteps.onResponse.push(lineWriter(accessLogger(app.log)));
  },
  { name: 'access-log', dependencies: ['request-hooks'] },
);
