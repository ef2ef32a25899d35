import { Transform } from 'node:stream';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { BODYLESS_METHODS } from '../plugins/expect-continue';
import { HttpError } from '../../errors';
import { forward } from '../../route-table/forward';
import type { RouteMatch } from '../../route-table/table';
import { constantTimeEqual } from '../../lib/constant-time';
import { WindowCounter } from '../../route-table/window-counter';

declare module 'fastify' {
  interface FastifyRequest {
    tableMatch?: RouteMatch;
  }
}

/** The largest body_limit the table schema allows: the per-route limit is enforced while reading. */
const MAX_BODY = 26_214_400;

function bodyTooLarge(): Error {
  return Object.assign(new Error('Request body is too large'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 });
}

/** Counts bytes as they arrive and stops the read past `limit`. */
function limited(limit: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > limit) done(bodyTooLarge());
      else done(null, chunk);
    },
  });
}

/**
 * The one catch-all route that serves the route table. Fastify cannot add routes after start, so
 * a request is matched here against the table version in use (find-my-way), and keeps that version
 * to its end. Paths the table does not know get the gateway's usual 404/405.
 */
const dispatcher: FastifyPluginAsync = async (app) => {
  const limits = new Map<string, WindowCounter>();
  const live = app.routeTable;

  // Bodies are forwarded as bytes, whatever their type; the upstream validates them.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_BODY }, (_req, body, done) => done(null, body));

  app.decorateRequest('tableMatch', undefined);

  // Matching, authentication and rate limits before the body is read (401 comes first). A callback
  // hook, not an async one: only a route with user auth waits, the others answer no promise.
  app.addHook('onRequest', (request, reply, done) => {
    const query = request.url.indexOf('?');
    const path = query === -1 ? request.url : request.url.slice(0, query);
    const { match, release } = live.acquire(request.method, path);
    if (!match) return done();
    reply.raw.once('close', release);
    request.tableMatch = match;
    const admit = () => {
      try {
        checkAccess(request, match);
      } catch (err) {
        return done(err as Error);
      }
      done();
    };
    if (match.route.auth === 'user') app.authenticate(request, reply).then(admit, done);
    else admit();
  });

  /** The internal key of an internal route, then the route's rate limit; throws the refusal. */
  function checkAccess(request: FastifyRequest, match: RouteMatch) {
    if (match.route.auth === 'internal') {
      const key = request.headers['x-internal-key'];
      if (typeof key !== 'string' || !constantTimeEqual(key, app.config.INTERNAL_SERVICE_KEY)) {
        throw new HttpError('unauthorized', 'Missing or invalid X-Internal-Key');
      }
    }
    if (match.route.rate_limit_per_minute > 0) checkRateLimit(request, match);
  }

  app.addHook('preParsing', async (request, _reply, payload) => {
    // A path the table does not know is answered 404/405: read no more than the usual limit.
    const limit = request.tableMatch?.route.body_limit ?? app.config.BODY_LIMIT_BYTES;
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > limit) throw bodyTooLarge();
    // Fastify reads no body for a GET or HEAD: a counting stream on every table read would only cost.
    if (BODYLESS_METHODS.has(request.method)) return payload;
    return payload.pipe(limited(limit));
  });

  function checkRateLimit(request: FastifyRequest, { route }: RouteMatch) {
    // Keyed by the limit too: a reload that changes it starts a new window.
    const key = `${route.name}|${route.rate_limit_per_minute}`;
    let counter = limits.get(key);
    if (!counter) {
      counter = new WindowCounter(route.rate_limit_per_minute, 60_000);
      limits.set(key, counter);
    }
    const wait = counter.hit(request.user?.sub ?? request.ip);
    if (wait) {
      throw new HttpError('rate_limited', 'Too many requests, try again later', {
        headers: { 'retry-after': String(wait) },
      });
    }
  }

  app.route({
    method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    url: '/*',
    bodyLimit: MAX_BODY,
    schema: { hide: true },
    handler: async (request, reply) => {
      const match = request.tableMatch;
      if (!match) return reply.callNotFound();
      let userData: string | undefined;
      if (match.route.user_context === 'x-user-data') {
        userData = await app.userDataHeader(request);
      }
      return forward(request, reply, match, userData);
    },
  });
};

export default dispatcher;
