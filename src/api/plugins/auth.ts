import fp from 'fastify-plugin';
import cookie from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { tokenHash } from '../../auth/denylist';
import type { AuthenticatedUser, MeResponse, UserContext } from '../../auth/types';

import { setBounded } from '../../bounded-map';
import { HttpError } from '../../errors';

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler for user routes: verifies the bearer token (or access_token cookie) and sets request.user. */
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    /** The chat `user_context`: token identity plus active org and role from /v1/client/me (cached). */
    userContext: (request: FastifyRequest) => Promise<UserContext>;
    /** The caller's cached /v1/client/me answer (orgs, full name), shared with `userContext`. */
    userProfile: (request: FastifyRequest) => Promise<MeResponse>;
    /** Drops the cached /me answer of a token (after switch-org, update). */
    forgetUserContext: (token: string) => void;
  }
  interface FastifyRequest {
    user?: AuthenticatedUser;
  }
}

/** The bearer token of a request: the Authorization header, else the access_token cookie. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return m?.[1];
  }
  const fromCookie = request.cookies?.access_token;
  return typeof fromCookie === 'string' && fromCookie ? fromCookie : undefined;
}

export default fp(
  async (app) => {
    const { tokenVerifier, authService } = app.deps;
    const ttl = app.config.USER_CONTEXT_CACHE_TTL_MS;
    const meCache = new Map<string, { until: number; me: Promise<MeResponse> }>();

    await app.register(cookie);
    app.decorateRequest('user', undefined);

    app.decorate('authenticate', async (request: FastifyRequest) => {
      const token = bearerToken(request);
      if (!token) {
        throw new HttpError('unauthorized', 'Not authenticated', { headers: { 'www-authenticate': 'Bearer' } });
      }
      request.user = await tokenVerifier.verify(token);
    });

    async function fetchMe(token: string): Promise<MeResponse> {
      const res = await authService.expect<MeResponse>('GET', '/v1/client/me', [200], { token });
      return res.body;
    }

    app.decorate('forgetUserContext', (token: string) => {
      meCache.delete(tokenHash(token));
    });

    app.decorate('userProfile', async (request: FastifyRequest): Promise<MeResponse> => {
      const user = request.user;
      if (!user) throw new HttpError('unauthorized', 'Not authenticated');
      const key = user.tokenHash;
      const now = Date.now();
      let entry = meCache.get(key);
      if (!entry || entry.until <= now) {
        entry = { until: Math.min(now + ttl, user.exp * 1000), me: fetchMe(user.token) };
        setBounded(meCache, key, entry, 10_000);
        entry.me.catch(() => meCache.delete(key));
      }
      return entry.me;
    });

    app.decorate('userContext', async (request: FastifyRequest): Promise<UserContext> => {
      const user = request.user;
      if (!user) throw new HttpError('unauthorized', 'Not authenticated');
      const me = await app.userProfile(request);
      const active = me.orgs.find((o) => o.org_id === me.active_org_id);
      return {
        sub: user.sub,
        email: user.email ?? me.email ?? null,
        full_name: user.name ?? me.full_name ?? null,
        active_org_id: me.active_org_id ?? null,
        org_role: active?.role ?? null,
      };
    });
  },
  { name: 'auth', dependencies: ['errors'] },
);
