import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { ERROR_STATUS, type ErrorBody, type ErrorCode, type FieldError } from '../errors';
import { randomUuid } from '../lib/uuid';

/** Retry-After of a 503 whose path did not say (a dependency outage: a few seconds, not at once). */
export const DEFAULT_RETRY_AFTER_SEC = '5';

/** Every error the gateway answers, in one shape (gateway-http.md, Errors), with X-Request-Id. */
export function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  code: ErrorCode,
  detail: string,
  errors?: FieldError[],
) {
  const body: ErrorBody = { detail, code, request_id: request.id };
  if (errors?.length) body.errors = errors;
  const status = ERROR_STATUS[code];
  // Every 503 says when to come back (gateway-http.md); a path that knows better sets its own.
  if (status === 503 && !reply.hasHeader('retry-after')) void reply.header('retry-after', DEFAULT_RETRY_AFTER_SEC);
  return reply.status(status).header('x-request-id', request.id).type('application/json; charset=utf-8').send(body);
}

/**
 * Errors Fastify raises before a route is found (its `frameworkErrors` option): a malformed URL,
 * an over-long path parameter, a failing route constraint. No onRequest hook has run yet.
 */
export const frameworkErrors: NonNullable<FastifyServerOptions['frameworkErrors']> = (error, request, reply) => {
  switch (error.code) {
    case 'FST_ERR_MAX_PARAM_LENGTH':
      void sendError(request, reply, 'uri_too_long', 'A path parameter is too long');
      return;
    case 'FST_ERR_BAD_URL':
      void sendError(request, reply, 'bad_request', 'The URL is not valid');
      return;
    default:
      request.log.error({ err: error }, 'framework error');
      void sendError(request, reply, 'internal', 'Internal server error');
  }
};

/** Node's HTTP parser refusals, answered before any request exists: 408, 431 or 400. */
function clientErrorCode(err: NodeJS.ErrnoException): ErrorCode {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'request_timeout';
  if (err.code === 'HPE_HEADER_OVERFLOW') return 'header_too_large';
  return 'bad_request';
}

const CLIENT_ERROR_DETAIL: Record<string, string> = {
  request_timeout: 'The request was not received in time',
  header_too_large: 'The request headers are too large',
  bad_request: 'The request is not valid HTTP',
};

/** Fastify's `clientErrorHandler`: the same body as every other error, on a socket that then closes. */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const code = clientErrorCode(err);
  const status = ERROR_STATUS[code];
  const requestId = randomUuid();
  const body = JSON.stringify({
    detail: CLIENT_ERROR_DETAIL[code] ?? 'Bad request',
    code,
    request_id: requestId,
  } satisfies ErrorBody);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
