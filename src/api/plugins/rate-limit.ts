import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import { tokenHash } from '../../auth/denylist';
import { HttpError } from '../../errors';
import { bearerToken } from './auth';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Opt a route into the credential rate limits (per IP and per account). */
    rateLimit?: 'auth';
  }
}

/** Fixed-window counters in memory. Each replica limits on its own; see README (Rate limits). */
export class WindowCounter {
  private counts = new Map<string, { n: number; resetAt: number }>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  /** Counts a hit; answers seconds to wait when over the limit, else 0. */
  hit(key: string, now = Date.now()): number {
    let c = this.counts.get(key);
    if (!c || c.resetAt <= now) {
      if (this.counts.size > 100_000) this.prune(now);
      c = { n: 0, resetAt: now + this.windowMs };
      this.counts.set(key, c);
    }
    c.n += 1;
    return c.n > this.max ? Math.ceil((c.resetAt - now) / 1000) : 0;
  }

  private prune(now: number) {
    for (const [k, c] of this.counts) if (c.resetAt <= now) this.counts.delete(k);
  }
}

/** The account a credential request is about: the e-mail in the body, else the verified user. */
function accountOf(request: FastifyRequest): string | undefined {
  const body = request.body as { email?: unknown } | undefined;
  if (body && typeof body.email === 'string') return body.email.trim().toLowerCase();
  if (request.user) return request.user.sub;
  // Runs before the route's authentication: key by the presented token instead.
  const token = bearerToken(request);
  return token ? tokenHash(token) : undefined;
}

/**
 * Rate limits for sign-in, sign-up, refresh, change-password and invite (gateway-http.md):
 * RATE_LIMIT_AUTH_PER_IP requests per minute per client IP and route, and
 * RATE_LIMIT_AUTH_PER_ACCOUNT per account and route. 429 `rate_limited` with Retry-After.
 */
export default fp(
  async (app) => {
    const perIp = new WindowCounter(app.config.RATE_LIMIT_AUTH_PER_IP, 60_000);
    const perAccount = new WindowCounter(app.config.RATE_LIMIT_AUTH_PER_ACCOUNT, 60_000);

    app.addHook('preHandler', async (request) => {
      if (request.routeOptions.config.rateLimit !== 'auth') return;
      const route = `${request.method} ${request.routeOptions.url ?? ''}`;
      let wait = perIp.hit(`${route}|${request.ip}`);
      const account = accountOf(request);
      if (!wait && account) wait = perAccount.hit(`${route}|${account}`);
      if (wait)
        throw new HttpError('rate_limited', 'Too many requests, try again later', {
          headers: { 'retry-after': String(wait) },
        });
    });
  },
  { name: 'rate-limit' },
);
