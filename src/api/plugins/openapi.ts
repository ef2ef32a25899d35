import fp from 'fastify-plugin';
import swagger, { type SwaggerTransformObject } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ErrorResponse } from '../schemas';

type Hook = (...args: never[]) => unknown;
type Security = Record<string, string[]>[];
const BEARER: Security = [{ bearer: [] }];

/** `GET /api/chat/conversations/:conversation_id/` → `getApiChatConversationsByConversationId`. */
export function operationIdOf(method: string, url: string): string {
  const words = url
    .split('/')
    .filter(Boolean)
    .flatMap((segment) =>
      segment.startsWith(':') ? ['by', segment.slice(1)] : segment === '*' ? ['by', 'path'] : [segment],
    )
    .flatMap((segment) => segment.split(/[^A-Za-z0-9]+/).filter(Boolean));
  return [method.toLowerCase(), ...words.map((w) => w[0]!.toUpperCase() + w.slice(1))].join('');
}

function hooksOf(value: unknown): Hook[] {
  if (typeof value === 'function') return [value as Hook];
  return Array.isArray(value) ? (value as Hook[]) : [];
}

/**
 * What a client generator needs from every documented route, set in one place rather than on
 * each route: an operationId from method and path, and `security` (bearer when the route runs
 * `app.authenticate`, none for public routes; a route's own declaration wins).
 */
function describeRoute(this: FastifyInstance, route: RouteOptions): void {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  // HEAD copies of GET routes share their schema and are not documented.
  if (methods.length !== 1 || methods[0] === 'HEAD' || !route.schema || route.schema.hide) return;
  const authenticate = (this as { authenticate?: Hook }).authenticate;
  const authenticated =
    authenticate !== undefined && [...hooksOf(route.onRequest), ...hooksOf(route.preHandler)].includes(authenticate);
  const { operationId, security } = route.schema;
  // A new object: route schemas may be shared constants.
  route.schema = {
    ...route.schema,
    operationId: operationId ?? operationIdOf(methods[0]!, route.url),
    security: security ?? (authenticated ? BEARER : []),
  };
}

/**
 * Marks every route registered in `scope` (the authenticated routes' scope) as needing a bearer
 * token in OpenAPI, for routes that authenticate through the scope's hook rather than their own.
 */
export function documentAsAuthenticated(scope: FastifyInstance): void {
  scope.addHook('onRoute', (route) => {
    if (route.schema && !(route.schema as Record<string, unknown>).hide)
      route.schema = { ...route.schema, security: BEARER };
  });
}

/**
 * The OpenAPI 3 document at /docs/json and Swagger UI at /docs, shaped for client generators
 * (lint-clean under `redocly lint` with its recommended rules; see redocly.yaml).
 */
export default fp<{ transformObject?: SwaggerTransformObject }>(
  async (app, { transformObject }) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'Durable API gateway',
          version: '0.1.0',
          description: 'One front door for the auth and chat services. Errors use {detail, code, request_id}.',
          license: { name: 'MIT', url: 'https://opensource.org/licenses/MIT' },
        },
        // Relative: the document is served by the gateway it describes, wherever it is published.
        servers: [{ url: '/', description: 'This gateway' }],
        components: {
          securitySchemes: {
            bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
            internalKey: { type: 'apiKey', in: 'header', name: 'X-Internal-Key' },
          },
        },
      },
      transform: ({ schema, url }) => {
        const documented = { ...(schema as Record<string, unknown>) };
        // Any route may answer a client error in the error format (404, 405, 413, 429, …).
        const responses = (documented.response ?? {}) as Record<string, unknown>;
        if (!Object.keys(responses).some((code) => code.startsWith('4'))) {
          documented.response = { ...responses, '4xx': Type.Ref(ErrorResponse) };
        }
        // A wildcard is a path parameter that may contain slashes (operation ids do).
        if (url.endsWith('/*')) {
          documented.params = Type.Object({
            path: Type.String({ description: 'The rest of the path; slashes raw or percent-encoded' }),
          });
          return { schema: documented, url: `${url.slice(0, -1)}:path` };
        }
        return { schema: documented, url };
      },
      transformObject,
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
    app.addHook('onRoute', describeRoute);
  },
  { name: 'openapi' },
);
