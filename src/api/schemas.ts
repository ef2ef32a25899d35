import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyRequest, onRouteHookHandler } from 'fastify';
import { asArray } from '../lib/as-array';

/** Shared JSON schemas of the HTTP API (they validate requests, serialise responses and feed OpenAPI). */

export const ErrorResponse = Type.Object(
  {
    detail: Type.String(),
    code: Type.String(),
    request_id: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  },
  { $id: 'ErrorResponse' },
);

/**
 * A UUID in its hyphenated form: `urn:uuid:`, braces and unhyphenated forms are refused (422);
 * upper case is accepted and lower-cased by `canonicalUuids` before validation, so routes, upstream
 * paths and events only ever see the canonical form.
 */
export const Uuid = Type.String({
  format: 'uuid',
  pattern: '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$',
});

type PropertiesOf = { properties?: Record<string, { format?: unknown }> } | undefined;

function lowerUuids(values: unknown, schema: unknown): void {
  const properties = (schema as PropertiesOf)?.properties;
  if (!properties || !values || typeof values !== 'object') return;
  const record = values as Record<string, unknown>;
  for (const [name, property] of Object.entries(properties)) {
    const value = record[name];
    if (property?.format === 'uuid' && typeof value === 'string') record[name] = value.toLowerCase();
  }
}

const hasUuid = (schema: unknown) =>
  Object.values((schema as PropertiesOf)?.properties ?? {}).some((property) => property?.format === 'uuid');

/** preValidation hook: the `Uuid` params and top-level body fields of a route, lower-cased. */
export async function canonicalUuids(request: FastifyRequest): Promise<void> {
  const schema = request.routeOptions.schema;
  if (!schema) return;
  lowerUuids(request.params, schema.params);
  lowerUuids(request.body, schema.body);
}

/** onRoute hook: `canonicalUuids` first on the routes that declare a `Uuid` param or body field, and only there. */
export const canonicalUuidsWhereDeclared: onRouteHookHandler = (route) => {
  if (!hasUuid(route.schema?.params) && !hasUuid(route.schema?.body)) return;
  route.preValidation = [canonicalUuids, ...asArray(route.preValidation)];
};
export const Email = Type.String({ format: 'email', maxLength: 254 });
export const Password = Type.String({ minLength: 8, maxLength: 128 });

export const OrgMembership = Type.Object({
  org_id: Type.String(),
  name: Type.String(),
  role: Type.String(),
  is_owner: Type.Boolean(),
});

export const User = Type.Object({
  user_id: Type.String(),
  sub: Type.Optional(Type.String()),
  email: Type.String(),
  full_name: Type.Union([Type.String(), Type.Null()]),
  orgs: Type.Array(OrgMembership),
  active_org_id: Type.Union([Type.String(), Type.Null()]),
});

export const TokenResponse = Type.Object({
  access_token: Type.String(),
  refresh_token: Type.String(),
  token_type: Type.String(),
  expires_in: Type.Integer(),
  jwt: Type.String(),
  user: Type.Optional(User),
});

export const Member = Type.Object({ user_id: Type.String(), email: Type.String(), role: Type.String() });

export const Operation = Type.Object({ operation_id: Type.String(), status: Type.Literal('running') });

/** Standard error responses for OpenAPI, added to a route's own successes. */
export function withErrors(success: Record<number, TSchema>, ...codes: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = { ...success };
  for (const c of codes) out[c] = Type.Ref(ErrorResponse);
  return out;
}
