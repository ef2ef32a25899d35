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

/** The headers an upstream receives for a request matched to `route`. */
export function upstreamHeaders(
  incoming: IncomingHttpHeaders,
  match: RouteMatch,
  requestId: string,
  userData: string | undefined,
): Record<string, string> {
  const { route } = match;
  const dropped = new Set(route.strip_headers.map((h) => h.toLowerCase()));
  // Names a client lists in Connection are hop-by-hop too.
  for (const name of String(incoming.connection ?? '').split(',')) dropped.add(name.trim().toLowerCase());
  if (!route.forward_authorization) dropped.add('authorization');
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || HOP_BY_HOP.has(name) || CLIENT_NEVER.has(name) || dropped.has(name)) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  for (const [name, value] of Object.entries(route.set_headers)) out[name.toLowerCase()] = value;
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
  const path = route.upstream_path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(params[name] ?? ''));
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

  for (const name of ['content-type', ...route.response_headers.map((h) => h.toLowerCase())]) {
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
