import { AjvCompiler } from '@fastify/ajv-compiler';
import type { FastifyServerOptions, onRouteHookHandler, preValidationAsyncHookHandler } from 'fastify';
import { HttpError } from '../errors';
import { asArray } from '../lib/as-array';

type BuildValidator = NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>['buildValidator'];

/**
 * Fastify's validators with coercion only where the request is text: query strings, path params
 * and headers are parsed (`?limit=5` → 5), JSON bodies are never coerced (gateway-http.md,
 * Validation: `123` where a string is expected is a 422, not the string "123").
 */
export function strictBodyValidators(): NonNullable<BuildValidator> {
  const pool = AjvCompiler();
  return (externalSchemas, options) => {
    const parsed = pool(externalSchemas, options);
    const customOptions = { ...options?.customOptions, coerceTypes: false };
    const strict = pool(externalSchemas, { ...options, customOptions } as typeof options);
    return (route) => (route.httpPart === 'body' ? strict(route) : parsed(route));
  };
}

/**
 * Fastify validates a body declared per content type (`body: { content: {...} }`) only when the
 * request names one of those types: a request with no body at all would reach the handler. Such
 * routes refuse it here, as a plain body schema would (422 naming `body`).
 */
export const requireDeclaredBody: onRouteHookHandler = (route) => {
  const body = route.schema?.body as { content?: unknown } | undefined;
  if (!body?.content) return;
  const check: preValidationAsyncHookHandler = async (request) => {
    if (request.body === undefined || request.body === null) {
      throw new HttpError('validation_error', 'Request validation failed', {
        errors: [{ field: 'body', message: 'is required' }],
      });
    }
  };
  route.preValidation = [...asArray(route.preValidation), check];
};
