import fp from 'fastify-plugin';
import cookie from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { tokenHash } from '../../auth/hashing';
import type { AuthenticatedUser, MeResponse, UserContext } from '../../auth/types';

import { LruMap } from '../../lib/bounded-map';
import { HttpError } from '../../errors';
import { refuseCrossSiteCookie } from './cors';
import { userDataHeader } from '../../upstreams/user-data';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Verifies the bearer token (or access_token cookie) and sets request.user. The onRequest hook of
     * the authenticated scope (routes/authenticated.ts), so it runs before any body is read.
     */
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    /** The chat `user_context`: token identity plus active org and role from /v1/client/me (cached). */
    userContext: (request: FastifyRequest) => Promise<UserContext>;
    /** The caller's cached /v1/client/me answer (orgs, full name), shared with `userContext`. */
    userProfile: (request: FastifyRequest) => Promise<MeResponse>;
    /** Drops the cached /me answer of a token (after switch-org, update). */
    forgetUserContext: (token: string) => void;
    /** The caller's `X-User-Data` header (billing-service.md), made once per cached /me answer. */
    userDataHeader: (request: FastifyRequest) => Promise<string>;
  }
  interface FastifyRequest {
    user?: AuthenticatedUser;
  }
}

const BEARER_PREFIX = /^Bearer\s+/i;
const SPACE = /\s/;

/**
 * The token of an `Authorization: Bearer <token>` value, as `/^Bearer\s+(\S+)\s*$/i` would capture
 * it, without running that pattern's capture and backtracking over a token of 700–1000 characters
 * on every request (5× slower).
 */
export function tokenOfBearer(header: string): string | undefined {
  const prefix = BEARER_PREFIX.exec(header);
  if (!prefix) return undefined;
  const token = header.slice(prefix[0].length).trimEnd();
  return token === '' || SPACE.test(token) ? undefined : token;
}

/** The bearer token of a request: the Authorization header, else the access_token cookie. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string') return tokenOfBearer(header);
  const fromCookie = request.cookies?.access_token;
  return typeof fromCookie === 'string' && fromCookie ? fromCookie : undefined;
}

/**
 * Makes a refusal end the connection when the request still has a body to send: after the answer,
 * Node would otherwise read the whole unread body (up to DOCUMENT_BODY_LIMIT_BYTES) to keep the
 * connection alive.
 */
export function closeIfBodyPending(request: FastifyRequest, reply: FastifyReply): void {
  const { headers } = request;
  const length = Number(headers['content-length'] ?? 0);
  if (headers['transfer-encoding'] !== undefined || length > 0) void reply.header('connection', 'close');
}

export default fp(
  async (app) => {
    const { tokenVerifier, authService } = app.deps;
    const ttl = app.config.USER_CONTEXT_CACHE_TTL_MS;
    // Keyed by the verified token's hash: an entry, and the header made from it, is that token's own.
    const meCache = new LruMap<string, { until: number; me: Promise<MeResponse>; userData?: Promise<string> }>(10_000);

    await app.register(cookie);
    app.decorateRequest('user', undefined);

    app.decorate('authenticate', async (request: FastifyRequest, reply: FastifyReply) => {
      const token = bearerToken(request);
      try {
        refuseCrossSiteCookie(request, app.config.CORS_ORIGINS);
        if (!token) {
          throw new HttpError('unauthorized', 'Not authenticated', { headers: { 'www-authenticate': 'Bearer' } });
        }
        request.user = await tokenVerifier.verify(token);
      } catch (err) {
        closeIfBodyPending(request, reply);
        throw err;
      }
    });

    async function fetchMe(token: string): Promise<MeResponse> {
      const res = await authService.expect<MeResponse>('GET', '/v1/client/me', [200], { token });
      return res.body;
    }

    app.decorate('forgetUserContext', (token: string) => {
      meCache.delete(tokenHash(token));
    });

    /** The caller's /me cache entry, fetched again once its time is up. */
    function meEntry(request: FastifyRequest) {
      const user = request.user;
      if (!user) throw new HttpError('unauthorized', 'Not authenticated');
      const key = user.tokenHash;
      const now = Date.now();
      let entry = meCache.get(key);
      if (!entry || entry.until <= now) {
        entry = { until: Math.min(now + ttl, user.exp * 1000), me: fetchMe(user.token) };
        meCache.set(key, entry);
        entry.me.catch(() => meCache.delete(key));
      }
      return entry;
    }

    app.decorate('userProfile', async (request: FastifyRequest): Promise<MeResponse> => meEntry(request).me);

    // The header carries the token and the /me answer: made once per entry, not on every request
    // (a JSON text of about 1 KB, escaped to ASCII).
    app.decorate('userDataHeader', async (request: FastifyRequest): Promise<string> => {
      const entry = meEntry(request);
      const token = request.user!.token;
      entry.userData ??= entry.me.then((me) => userDataHeader(token, me));
      return entry.userData;
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
