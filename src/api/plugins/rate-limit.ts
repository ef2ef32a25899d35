import fp from 'fastify-plugin';
import rateLimit, { normalizeIP, type CreateRateLimitOptions } from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import { HttpError } from '../../errors';
import { asArray } from '../../lib/as-array';
import { bearerToken } from './auth';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Opt a route into the credential rate limits (per IP and per account). */
    authRateLimit?: boolean;
  }
}

/** Keys each limiter remembers (least recently used evicted), so rotating keys cannot grow memory. */
const KEYS_PER_LIMITER = 10_000;
const WINDOW_MS = 60_000;

type Limiter = ReturnType<FastifyRequest['server']['createRateLimit']>;

const routeOf = (request: FastifyRequest) => `${request.method} ${request.routeOptions.url ?? ''}`;

/**
 * Rate limits for sign-in, sign-up, refresh, change-password and invite (gateway-http.md):
 * RATE_LIMIT_AUTH_PER_IP requests per minute per client IP and route, and
 * RATE_LIMIT_AUTH_PER_ACCOUNT per account and route. 429 `rate_limited` with Retry-After.
 * Counters live in @fastify/rate-limit's in-memory LRU store; each replica limits on its own.
 */
export default fp(
  async (app) => {
    const accounts = new WeakMap<FastifyRequest, string>();
    let perIp: Limiter | undefined;
    let perAccount: Limiter | undefined;
    // A child scope: the library's own per-route hooks stay off; its limiters are called below.
    await app.register(async (scope) => {
      await scope.register(rateLimit, { global: false });
      const limiter = (max: number, key: (r: FastifyRequest) => string) =>
        scope.createRateLimit({
          max,
          timeWindow: WINDOW_MS,
          keyGenerator: key,
          cache: KEYS_PER_LIMITER,
        } as CreateRateLimitOptions);
      perIp = limiter(app.config.RATE_LIMIT_AUTH_PER_IP, (r) => `${routeOf(r)}|${normalizeIP(r.ip)}`);
      perAccount = limiter(app.config.RATE_LIMIT_AUTH_PER_ACCOUNT, (r) => `${routeOf(r)}|${accounts.get(r) ?? ''}`);
    });

    /** The account a credential request is about: the e-mail in the body, else the verified user. */
    async function accountOf(request: FastifyRequest): Promise<string | undefined> {
      const body = request.body as { email?: unknown } | undefined;
      if (body && typeof body.email === 'string') return body.email.trim().toLowerCase();
      if (request.user) return request.user.sub;
      // Before the route's own authentication: key by the verified user, so that a fresh token per
      // request cannot dodge the limit. An invalid token is refused by the route itself.
      const token = bearerToken(request);
      if (!token) return undefined;
      return app.deps.tokenVerifier.verify(token).then(
        (user) => user.sub,
        () => undefined,
      );
    }

    async function check(limiter: Limiter, request: FastifyRequest) {
      const result = await limiter(request);
      if (!result.isAllowed && result.isExceeded)
        throw new HttpError('rate_limited', 'Too many requests, try again later', {
          headers: { 'retry-after': String(Math.max(1, result.ttlInSeconds)) },
        });
    }

    const limit = async (request: FastifyRequest) => {
      await check(perIp!, request);
      const account = await accountOf(request);
      if (account === undefined) return;
      accounts.set(request, account);
      await check(perAccount!, request);
    };
    // On the opted-in routes only: a global hook cost every other request a promise and a microtask.
    app.addHook('onRoute', (route) => {
      if (route.config?.authRateLimit !== true) return;
      route.preHandler = [limit, ...asArray(route.preHandler)];
    });
  },
  { name: 'rate-limit', dependencies: ['auth'] },
);
