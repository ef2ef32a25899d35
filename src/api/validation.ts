import { AjvCompiler } from '@fastify/ajv-compiler';
import type { FastifyServerOptions } from 'fastify';

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
