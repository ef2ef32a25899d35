import { Type, type Static } from '@sinclair/typebox';
import { DEFAULT_MAX_ANSWER_BYTES, MAX_ANSWER_BYTES_CEILING } from '../upstreams/pool-call';

/** The route table file (config/routes.yaml); docs/adding-a-service.md describes every field. */

const Method = Type.Union(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'].map((m) => Type.Literal(m)));
const HeaderName = Type.String({ pattern: '^[A-Za-z0-9-]{1,64}$' });
const Path = Type.String({ pattern: '^/[A-Za-z0-9._~:/{}-]*$', maxLength: 512 });

export const UpstreamSpec = Type.Object(
  {
    url: Type.String({ pattern: '^https?://[^\\s]+$' }),
    connections: Type.Integer({ minimum: 1, maximum: 4096, default: 64 }),
    keep_alive_ms: Type.Integer({ minimum: 1000, maximum: 600_000, default: 30_000 }),
    breaker: Type.Object(
      {
        threshold: Type.Integer({ minimum: 1, maximum: 1000, default: 5 }),
        cooldown_ms: Type.Integer({ minimum: 100, maximum: 600_000, default: 10_000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    readiness: Type.String({ pattern: '^/', default: '/health' }),
    /** Longest answer body read from this upstream; a longer one is cut off and answered 502. */
    max_answer_bytes: Type.Integer({
      minimum: 1024,
      maximum: MAX_ANSWER_BYTES_CEILING,
      default: DEFAULT_MAX_ANSWER_BYTES,
    }),
  },
  { additionalProperties: false },
);

export const RouteSpec = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,63}$' }),
    summary: Type.String({ default: '' }),
    methods: Type.Array(Method, { minItems: 1, uniqueItems: true }),
    path: Path,
    upstream: Type.String({ minLength: 1 }),
    upstream_path: Path,
    auth: Type.Union([Type.Literal('none'), Type.Literal('user'), Type.Literal('internal')]),
    /** `x-user-data`: the verified token and the caller's /me data, as billing reads it. */
    user_context: Type.Union([Type.Literal('none'), Type.Literal('x-user-data')], { default: 'none' }),
    /** Pass the caller's `Authorization` header through (stripped otherwise). */
    forward_authorization: Type.Boolean({ default: false }),
    set_headers: Type.Record(HeaderName, Type.String(), { default: {} }),
    strip_headers: Type.Array(HeaderName, { default: [] }),
    timeout_ms: Type.Integer({ minimum: 100, maximum: 300_000, default: 10_000 }),
    retries: Type.Integer({ minimum: 0, maximum: 5, default: 0 }),
    body_limit: Type.Integer({ minimum: 0, maximum: 26_214_400, default: 1_048_576 }),
    /** Requests per minute per user (per client IP on `auth: none`); 0 = no limit. */
    rate_limit_per_minute: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 }),
    /** Response headers passed to the client besides Content-Type. */
    response_headers: Type.Array(HeaderName, { default: [] }),
    /** A named body transform from src/route-table/transforms.ts. */
    transform: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const RouteTableFile = Type.Object(
  {
    upstreams: Type.Record(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,63}$' }), UpstreamSpec),
    routes: Type.Array(RouteSpec),
  },
  { additionalProperties: false },
);

export type UpstreamSpec = Static<typeof UpstreamSpec>;
export type RouteSpec = Static<typeof RouteSpec>;
export type RouteTableFile = Static<typeof RouteTableFile>;
