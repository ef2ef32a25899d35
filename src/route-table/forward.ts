import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { reshapeUpstreamError, parseJson } from '../upstreams/upstream-errors';
import type { RouteMatch } from './table';
import { TRANSFORMS } from './transforms';

/** Hop-by-hop headers (RFC 9110 §7.6.1) and those the proxy sets itself. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'expect',
  'http2-settings',
]);

/**
 * Never forwarded from a client: identity an upstream trusts (only the gateway builds it), session
 * cookies, and Accept-Encoding (answers are read, reshaped and transformed as plain bytes).
 */
const CLIENT_NEVER = new Set(['x-user-data', 'x-internal-key', 'cookie', 'accept-encoding']);

type Route = RouteMatch['route'];

/** What a route's header rules come to, worked out once per route (a reload makes new routes). */
interface RouteHeaders {
  /** strip_headers, and authorization unless forward_authorization, lower-cased. */
  dropped: Set<string>;
  /** set_headers with lower-cased names. */
  set: [string, string][];
  /** The answer's headers passed to the client: content-type and response_headers, lower-cased. */
  passed: string[];
}

const routeHeaders = new WeakMap<Route, RouteHeaders>();

function headersOf(route: Route): RouteHeaders {
  let shape = routeHeaders.get(route);
  if (!shape) {
    const dropped = new Set(route.strip_headers.map((h) => h.toLowerCase()));
    if (!route.forward_authorization) dropped.add('authorization');
    const set = Object.entries(route.set_headers).map(([name, value]): [string, string] => [name.toLowerCase(), value]);
    const passed = ['content-type', ...route.response_headers.map((h) => h.toLowerCase())];
    routeHeaders.set(route, (shape = { dropped, set, passed }));
  }
  return shape;
}

/** The headers an upstream receives for a request matched to `route`. */
export function upstreamHeaders(
  incoming: IncomingHttpHeaders,
  match: RouteMatch,
  requestId: string,
  userData: string | undefined,
): Record<string, string> {
  const { dropped, set } = headersOf(match.route);
  // Names a client lists in Connection are hop-by-hop too.
  const listed =
    incoming.connection === undefined
      ? []
      : String(incoming.connection)
          .split(',')
          .map((n) => n.trim().toLowerCase());
  const out: Record<string, string> = {};
  for (const name of Object.keys(incoming)) {
    const value = incoming[name];
    if (value === undefined || HOP_BY_HOP.has(name) || CLIENT_NEVER.has(name) || dropped.has(name)) continue;
    if (listed.length > 0 && listed.includes(name)) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  for (const [name, value] of set) out[name] = value;
  out['x-request-id'] = requestId;
  if (userData !== undefined) out['x-user-data'] = userData;
  return out;
}

/** Never passed to a client, whatever the table says: cookies and CORS belong to the gateway. */
const isForbiddenResponseHeader = (name: string) =>
  name === 'set-cookie' || name.startsWith('access-control-') || HOP_BY_HOP.has(name);

/** Proxies one matched request: the upstream answer, filtered, reshaped or transformed. */
export async function forward(
  request: FastifyRequest,
  reply: FastifyReply,
  match: RouteMatch,
  userData: string | undefined,
): Promise<FastifyReply> {
  const { route, upstream, params } = match;
  const path = route.upstream_path.includes('{')
    ? route.upstream_path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(params[name] ?? ''))
    : route.upstream_path;
  const q = request.url.indexOf('?');
  const body = request.body;
  const res = await upstream.send({
    method: request.method,
    path: q >= 0 ? path + request.url.slice(q) : path,
    headers: upstreamHeaders(request.headers, match, request.id, userData),
    body: Buffer.isBuffer(body) ? body : undefined,
    timeoutMs: route.timeout_ms,
    retries: route.retries,
  });
  if (res.status >= 400) throw reshapeUpstreamError(upstream.name, res.status, parseJson(res.body));

  for (const name of headersOf(route).passed) {
    const value = res.headers[name];
    if (value !== undefined && !isForbiddenResponseHeader(name)) void reply.header(name, value);
  }
  void reply.status(res.status);
  const transform = route.transform ? TRANSFORMS[route.transform] : undefined;
  const isJson = String(res.headers['content-type'] ?? '').includes('json');
  if (transform && isJson && res.body.length > 0) {
    const parsed = parseJson(res.body);
    if (parsed !== undefined) return reply.send(JSON.stringify(transform(parsed)));
  }
  return reply.send(res.status === 204 || res.status === 304 ? undefined : res.body);
}
