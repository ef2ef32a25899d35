import fp from 'fastify-plugin';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import type { FastifyError } from 'fastify';
import { ERROR_STATUS, HttpError, type ErrorCode, type FieldError } from '../../errors';
import { sendError as send } from '../framework-errors';

interface AjvError {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
  keyword?: string;
}

function fieldErrors(validation: AjvError[], context: string | undefined): FieldError[] {
  return validation.map((e) => {
    const path = (e.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    const prop = e.params?.missingProperty;
    const missing = e.keyword === 'required' && typeof prop === 'string' ? prop : '';
    const field = [path, missing].filter(Boolean).join('.') || context || 'body';
    return { field, message: e.message ?? 'is invalid' };
  });
}

/** Fastify's own client errors, by their code: the contract's code and a detail. */
const FRAMEWORK_ERRORS = new Map<string | undefined, [ErrorCode, string]>([
  ['FST_ERR_CTP_BODY_TOO_LARGE', ['payload_too_large', 'Request body is too large']],
  ['FST_ERR_CTP_INVALID_MEDIA_TYPE', ['unsupported_media_type', 'Unsupported content type']],
  ['FST_ERR_CTP_EMPTY_JSON_BODY', ['bad_request', 'Request body is empty']],
  ['FST_ERR_CTP_INVALID_JSON_BODY', ['bad_request', 'Request body is not valid JSON']],
  ['FST_ERR_CTP_INVALID_CONTENT_LENGTH', ['bad_request', 'Content-Length does not match the request body']],
  ['FST_ERR_RATE_LIMIT_EXCEEDED', ['rate_limited', 'Too many requests']],
]);

/**
 * Maps every error to the JSON error format; hides 5xx internals; answers unknown paths with
 * 404 and known paths with a wrong method with 405 + Allow.
 */
export default fp(
  async (app) => {
    // A second router that only knows paths, to tell 405 from 404.
    const known = FindMyWay({ ignoreTrailingSlash: true });
    app.addHook('onRoute', (route) => {
      if (route.url.includes('*')) return; // catch-alls (CORS preflight) say nothing about a path
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const m of methods) {
        try {
          known.on(m as HTTPMethod, route.url, () => undefined);
        } catch {
          // duplicate registration (e.g. HEAD added for GET) — already known
        }
      }
    });

    app.setNotFoundHandler((request, reply) => {
      const path = request.url.split('?')[0] ?? '/';
      const allowed = (['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as HTTPMethod[]).filter(
        (m) => known.find(m, path) !== null,
      );
      if (allowed.length) {
        void reply.header('allow', allowed.join(', '));
        return send(request, reply, 'method_not_allowed', `Method ${request.method} not allowed`);
      }
      return send(request, reply, 'not_found', 'Not found');
    });

    app.setErrorHandler((error: FastifyError | HttpError, request, reply) => {
      if (error instanceof HttpError) {
        for (const [k, v] of Object.entries(error.extra.headers ?? {})) void reply.header(k, v);
        if (error.status >= 500) request.log.warn({ code: error.code, ...error.extra.log }, error.detail);
        return send(request, reply, error.code, error.detail, error.extra.errors);
      }
      const fe = error;
      if (fe.validation) {
        return send(
          request,
          reply,
          'validation_error',
          'Request validation failed',
          fieldErrors(fe.validation, fe.validationContext),
        );
      }
      const known = FRAMEWORK_ERRORS.get(fe.code);
      if (known) return send(request, reply, known[0], known[1]);
      // busboy's own errors (no boundary, cut-off parts) carry no status: they are the client's.
      if (!fe.statusCode && /^Multipart:/.test(fe.message)) {
        return send(request, reply, 'bad_request', 'Request body is not valid multipart/form-data');
      }
      if (fe instanceof SyntaxError || (fe.statusCode === 400 && /JSON/i.test(fe.message))) {
        return send(request, reply, 'bad_request', 'Request body is not valid JSON');
      }
      const status = fe.statusCode ?? 500;
      if (status === 429) return send(request, reply, 'rate_limited', 'Too many requests');
      if (status >= 400 && status < 500) {
        const code = (Object.entries(ERROR_STATUS).find(([, s]) => s === status)?.[0] ?? 'bad_request') as ErrorCode;
        return send(request, reply, code, fe.message || 'Bad request');
      }
      request.log.error({ err: fe }, 'unhandled error');
      return send(request, reply, 'internal', 'Internal server error');
    });
  },
  { name: 'errors' },
);
