import fp from 'fastify-plugin';
import cors from '@fastify/cors';
import type { FastifyRequest } from 'fastify';
import { HttpError } from '../../errors';

const EXPOSED_HEADERS = ['X-Request-Id', 'X-Total-Count', 'Location', 'Retry-After'];

/**
 * CORS with an explicit allowlist (gateway-http.md, Conventions → CORS): an allowed origin gets
 * credentials and a cached preflight; any other origin gets no `Access-Control-Allow-*` header
 * at all. Preflights that are not CORS preflights are refused in the error format.
 */
export default fp<{ origins: string[] }>(
  async (app, { origins }) => {
    const allowed = new Set(origins);

    app.requestSteps.onRequest.push((request) => {
      if (request.method !== 'OPTIONS') return;
      const origin = request.headers.origin;
      if (typeof origin !== 'string' || !request.headers['access-control-request-method'])
        throw new HttpError('bad_request', 'A CORS preflight needs Origin and Access-Control-Request-Method');
      if (!allowed.has(origin)) throw new HttpError('forbidden', 'Origin not allowed');
    });

    // An origin function that answers false stops @fastify/cors before it writes any header (it
    // still adds `Vary: Origin`); an allowed origin is reflected. Static options, where a delegator
    // had every request's options copied over the defaults again.
    await app.register(cors, {
      origin: (origin, cb) => cb(null, typeof origin === 'string' && allowed.has(origin) ? origin : false),
      credentials: true,
      maxAge: 600,
      exposedHeaders: EXPOSED_HEADERS,
      strictPreflight: false,
    });
  },
  { name: 'cors-policy', dependencies: ['errors', 'request-hooks'] },
);

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF: an unsafe request authenticated by the access_token cookie alone (no Authorization header)
 * needs an Origin in `origins` or `Sec-Fetch-Site: same-origin`, which browsers do not let pages forge.
 */
export function refuseCrossSiteCookie(request: FastifyRequest, origins: readonly string[]): void {
  if (SAFE_METHODS.has(request.method) || request.headers.authorization !== undefined) return;
  if (!request.cookies?.access_token) return;
  const origin = request.headers.origin;
  if (typeof origin === 'string' && origins.includes(origin)) return;
  if (request.headers['sec-fetch-site'] === 'same-origin') return;
  throw new HttpError('forbidden', 'Cookie-authenticated requests need an allowed Origin (CSRF protection)');
}
