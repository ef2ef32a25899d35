import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors as joseErrors } from 'jose';
import type { KeyRing } from './keys';
import { ASSIGNABLE_ROLES, type AuthStore, type FakeSession, type FakeUser, type OrgRole } from './store';
import type { TokenMinter } from './tokens';
import {
  DetailError,
  RequestValidationError,
  UnexpectedError,
  isUuid,
  canonicalUuid,
  parseBody,
  uuidParam,
} from './validation';

/** What the routes need from the running fake. */
export interface AuthFakeContext {
  store: AuthStore;
  keys: KeyRing;
  tokens: TokenMinter;
  /** Path part of the issuer (`/realms/auth-service`): where the JWKS and discovery document are served. */
  issuerPath: string;
  issuer(): string;
  /** The fake's own base URL (discovery URLs are absolute). */
  baseUrl(): string;
  internalKey: string;
  accessTokenTtlSec(): number;
  sessionTtlSec: number;
  /** Simulated Keycloak outage: sign-in says `Invalid credentials`, sign-up and logout fail with 400. */
  keycloakDown(): boolean;
  /** `'sign-in'`: sign-up of a registered e-mail with its password answers 201 with tokens. */
  signUpOfRegistered(): 'reject' | 'sign-in';
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

interface RouteEntry {
  method: string;
  url: string;
  pattern: RegExp;
}

/** Prefixes the auth routes are served under (the service duplicates them). */
const CLIENT_PREFIXES = ['/v1/client', '/v1/auth'] as const;
/** Where the service's own cookies land: never where a browser would send them back to the gateway. */
const COOKIE_PATH = '/v1/client/cookies';

function toPattern(url: string): RegExp {
  const escaped = url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z_]+/g, '[^/]+');
  return new RegExp(`^${escaped}$`);
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function splitUrl(url: string): { path: string; query: string } {
  const i = url.indexOf('?');
  return i === -1 ? { path: url, query: '' } : { path: url.slice(0, i), query: url.slice(i) };
}

function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i).trim(), decodeURIComponent(part.slice(i + 1).trim()));
  }
  return out;
}

/** Registers the auth service's routes, error shapes and quirks on a bare Fastify instance. */
export function registerAuthFakeRoutes(app: FastifyInstance, ctx: AuthFakeContext): void {
  const table: RouteEntry[] = [];
  const route = (method: Method, url: string, handler: Handler): void => {
    app.route({ method, url, handler });
    table.push({ method, url, pattern: toPattern(url) });
    if (method === 'GET') table.push({ method: 'HEAD', url, pattern: toPattern(url) });
  };
  const methodsFor = (path: string): string[] => table.filter((r) => r.pattern.test(path)).map((r) => r.method);

  // Bodies are read as text and parsed per route, so malformed JSON or a missing or wrong content
  // type get FastAPI's 422 answers instead of Fastify's 400/415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof DetailError) return reply.code(error.statusCode).send({ detail: error.detail });
    if (error instanceof RequestValidationError) return reply.code(422).send({ detail: error.issues });
    const status = (error as { statusCode?: unknown }).statusCode;
    if (!(error instanceof UnexpectedError) && typeof status === 'number' && status >= 400 && status < 500) {
      return reply.code(status).send({ detail: (error as Error).message });
    }
    request.log.error({ err: error }, 'auth fake: unexpected failure');
    return reply.code(500).type('text/plain; charset=utf-8').send('Internal Server Error');
  });

  app.setNotFoundHandler((request, reply) => {
    const { path, query } = splitUrl(request.url);
    // Starlette's redirect_slashes: the same path without the slash exists → 307 to its absolute URL.
    if (path.length > 1 && path.endsWith('/')) {
      const stripped = path.replace(/\/+$/, '') || '/';
      if (methodsFor(stripped).length > 0) {
        const origin = request.headers.host ? `http://${request.headers.host}` : ctx.baseUrl();
        return reply.code(307).header('location', `${origin}${stripped}${query}`).send();
      }
    }
    const allowed = methodsFor(path);
    if (allowed.length > 0) {
      return reply.code(405).header('allow', allowed.join(', ')).send({ detail: 'Method Not Allowed' });
    }
    return reply.code(404).send({ detail: 'Not Found' });
  });

  const { store, tokens } = ctx;

  const authenticate = async (request: FastifyRequest): Promise<FakeUser> => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (!match) throw new DetailError(401, 'Not authenticated');
    let claims;
    try {
      claims = await ctx.keys.verify(match[1]!, ctx.issuer());
    } catch (err) {
      throw new DetailError(401, err instanceof joseErrors.JWTExpired ? 'Token has expired' : 'Invalid token');
    }
    if (claims.typ !== 'Bearer' || typeof claims.sub !== 'string' || !isUuid(claims.sub)) {
      throw new DetailError(401, 'Invalid token');
    }
    return store.userFromClaims(claims.sub, claims);
  };

  const requireInternalKey = (request: FastifyRequest): void => {
    const given = request.headers['x-internal-key'];
    if (typeof given !== 'string' || !timingSafeEqual(sha256(given), sha256(ctx.internalKey))) {
      throw new DetailError(401, 'Invalid internal key');
    }
  };

  const userView = (user: FakeUser) => ({
    sub: user.sub,
    email: user.email,
    full_name: user.full_name,
    orgs: store.orgsOf(user.sub),
    active_org_id: user.active_org_id,
  });

  const tokenResponse = async (user: FakeUser, session: FakeSession, refreshToken: string) => ({
    access_token: await tokens.accessTokenFor(user, session.id),
    refresh_token: refreshToken,
    token_type: 'Bearer',
    expires_in: ctx.accessTokenTtlSec(),
  });

  const setOwnCookies = (reply: FastifyReply, body: { access_token: string; refresh_token: string }): void => {
    reply.header('set-cookie', [
      `access_token=${body.access_token}; HttpOnly; Max-Age=${ctx.accessTokenTtlSec()}; Path=${COOKIE_PATH}; SameSite=lax`,
      `refresh_token=${body.refresh_token}; HttpOnly; Max-Age=${ctx.sessionTtlSec}; Path=${COOKIE_PATH}; SameSite=lax`,
    ]);
  };

  const params = (request: FastifyRequest): Record<string, string> => request.params as Record<string, string>;

  for (const prefix of CLIENT_PREFIXES) {
    route('POST', `${prefix}/sign-up`, async (request, reply) => {
      const body = parseBody(request.body, {
        email: { kind: 'email' },
        password: { kind: 'string' },
        full_name: { kind: 'string' },
      });
      if (ctx.keycloakDown()) throw new DetailError(400, 'Failed to create user in Keycloak: 503 Service Unavailable');
      const existing = store.findUserByEmail(body.email);
      const user =
        existing && ctx.signUpOfRegistered() === 'sign-in' && store.checkPassword(existing, body.password)
          ? existing
          : store.createUser(body);
      const { session, refreshToken } = store.startSession(user.sub);
      const response = await tokenResponse(user, session, refreshToken);
      setOwnCookies(reply, response);
      return reply.code(201).send(response);
    });

    route('POST', `${prefix}/sign-in/password`, async (request, reply) => {
      const body = parseBody(request.body, { email: { kind: 'email' }, password: { kind: 'string' } });
      const user = store.findUserByEmail(body.email);
      // Keycloak being unreachable looks the same as a wrong password.
      if (ctx.keycloakDown() || !user || !store.checkPassword(user, body.password)) {
        throw new DetailError(401, 'Invalid credentials');
      }
      const { session, refreshToken } = store.startSession(user.sub);
      const response = await tokenResponse(user, session, refreshToken);
      setOwnCookies(reply, response);
      return reply.send(response);
    });

    route('POST', `${prefix}/refresh_token`, async (request) => {
      const body = parseBody(request.body, { refresh_token: { kind: 'string' } });
      if (ctx.keycloakDown()) throw new DetailError(401, 'Invalid refresh token');
      const { session, refreshToken } = store.refreshSession(body.refresh_token);
      const user = store.users.get(session.user_id);
      if (!user) throw new DetailError(401, 'Invalid refresh token');
      return tokenResponse(user, session, refreshToken);
    });

    route('POST', `${prefix}/logout`, async (request, reply) => {
      const body = parseBody(request.body, { refresh_token: { kind: 'string' } });
      if (ctx.keycloakDown()) throw new DetailError(400, 'Failed to logout: Keycloak unavailable');
      store.endSession(body.refresh_token);
      return reply.code(204).send();
    });

    route('GET', `${prefix}/validate`, async (request) => {
      const { token } = request.query as { token?: string | string[] };
      if (token === undefined) {
        throw new RequestValidationError([
          { type: 'missing', loc: ['query', 'token'], msg: 'Field required', input: null },
        ]);
      }
      try {
        const claims = await ctx.keys.verify(Array.isArray(token) ? (token.at(-1) ?? '') : token, ctx.issuer());
        return { valid: true, sub: claims.sub ?? null, exp: claims.exp ?? null };
      } catch {
        return { valid: false, sub: null, exp: null };
      }
    });

    route('GET', `${prefix}/me`, async (request) => userView(await authenticate(request)));

    route('PATCH', `${prefix}/update`, async (request) => {
      const user = await authenticate(request);
      const body = parseBody(request.body, { full_name: { kind: 'string' } });
      user.full_name = body.full_name;
      return userView(user);
    });

    route('POST', `${prefix}/change-password`, async (request) => {
      const user = await authenticate(request);
      const body = parseBody(request.body, { old_password: { kind: 'string' }, new_password: { kind: 'string' } });
      if (ctx.keycloakDown() || !store.checkPassword(user, body.old_password)) {
        throw new DetailError(400, 'Invalid old password');
      }
      store.setPassword(user, body.new_password);
      return { message: 'Password changed successfully' };
    });

    route('PATCH', `${prefix}/switch-org`, async (request) => {
      const user = await authenticate(request);
      const body = parseBody(request.body, { org_id: { kind: 'string' } });
      if (!isUuid(body.org_id)) throw new DetailError(400, 'Invalid organization id');
      store.switchOrg(user, canonicalUuid(body.org_id));
      return { active_org_id: user.active_org_id };
    });

    route('GET', `${prefix}/cookies`, async (request) => {
      const cookies = parseCookies(request.headers.cookie);
      return { access_token: cookies.get('access_token') ?? null, refresh_token: cookies.get('refresh_token') ?? null };
    });
  }

  const roleSpec = { kind: 'enum', values: ASSIGNABLE_ROLES } as const;

  route('POST', '/v1/org', async (request) => {
    const user = await authenticate(request);
    const body = parseBody(request.body, { name: { kind: 'string', minLength: 1 } });
    return { org_id: store.createOrg(user.sub, body.name).org_id };
  });

  route('GET', '/v1/org/:org_id', async (request) => {
    await authenticate(request);
    const org = store.getOrg(uuidParam(params(request).org_id!, 'org_id'));
    return { org_id: org.org_id, name: org.name, owner_id: org.owner_id };
  });

  // No membership check: the gateway has to do it.
  route('GET', '/v1/org/:org_id/members', async (request) => {
    await authenticate(request);
    return store.membersOf(uuidParam(params(request).org_id!, 'org_id'));
  });

  route('POST', '/v1/org/:org_id/invite', async (request) => {
    const user = await authenticate(request);
    const orgId = uuidParam(params(request).org_id!, 'org_id');
    const body = parseBody(request.body, { email: { kind: 'email' }, role: { ...roleSpec, default: 'member' } });
    const invite = store.invite(user.sub, orgId, body.email, body.role as OrgRole);
    return { invite_token: invite.token };
  });

  route('POST', '/v1/invite/accept', async (request) => {
    const user = await authenticate(request);
    const body = parseBody(request.body, { invite_token: { kind: 'string' } });
    const invite = store.acceptInvite(user, body.invite_token);
    return { org_id: invite.org_id, role: invite.role };
  });

  route('DELETE', '/v1/org/:org_id/member/:user_id', async (request, reply) => {
    const user = await authenticate(request);
    const orgId = uuidParam(params(request).org_id!, 'org_id');
    const memberId = uuidParam(params(request).user_id!, 'user_id');
    store.removeMember(user.sub, orgId, memberId);
    return reply.code(204).send();
  });

  route('PATCH', '/v1/org/:org_id/member/:user_id/role', async (request) => {
    const user = await authenticate(request);
    const orgId = uuidParam(params(request).org_id!, 'org_id');
    const memberId = uuidParam(params(request).user_id!, 'user_id');
    const body = parseBody(request.body, { role: roleSpec });
    store.setMemberRole(user.sub, orgId, memberId, body.role as OrgRole);
    return { user_id: memberId, role: body.role };
  });

  // Internal routes take ids as plain strings: anything unknown (or not a UUID) is a 404.
  const internalUser = (request: FastifyRequest): FakeUser => {
    requireInternalKey(request);
    const id = params(request).user_id!;
    const user = store.users.get(isUuid(id) ? canonicalUuid(id) : id);
    if (!user) throw new DetailError(404, 'User not found');
    return user;
  };
  const internalOrgId = (request: FastifyRequest): string => {
    requireInternalKey(request);
    const id = params(request).org_id!;
    if (!isUuid(id)) throw new DetailError(404, 'Organization not found');
    return store.getOrg(canonicalUuid(id)).org_id;
  };

  route('GET', '/auth/user/:user_id', async (request) => {
    const user = internalUser(request);
    return { sub: user.sub, email: user.email, full_name: user.full_name, created_at: user.created_at };
  });
  route('GET', '/auth/user/:user_id/orgs', async (request) => store.orgsOf(internalUser(request).sub));
  route('GET', '/auth/org/:org_id', async (request) => {
    const org = store.getOrg(internalOrgId(request));
    return { org_id: org.org_id, name: org.name, owner_id: org.owner_id };
  });
  route('GET', '/auth/org/:org_id/members', async (request) => store.membersOf(internalOrgId(request)));

  route('GET', '/health', async () => ({ status: 'ok' }));

  route('GET', `${ctx.issuerPath}/protocol/openid-connect/certs`, async (_request, reply) =>
    reply.header('cache-control', 'no-cache').send(ctx.keys.jwks()),
  );
  route('GET', `${ctx.issuerPath}/.well-known/openid-configuration`, async () => {
    const base = `${ctx.baseUrl()}${ctx.issuerPath}`;
    return {
      issuer: ctx.issuer(),
      authorization_endpoint: `${base}/protocol/openid-connect/auth`,
      token_endpoint: `${base}/protocol/openid-connect/token`,
      userinfo_endpoint: `${base}/protocol/openid-connect/userinfo`,
      end_session_endpoint: `${base}/protocol/openid-connect/logout`,
      jwks_uri: `${base}/protocol/openid-connect/certs`,
      grant_types_supported: ['authorization_code', 'refresh_token', 'password'],
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    };
  });

  route('GET', '/openapi.json', async () => {
    const paths: Record<string, Record<string, object>> = {};
    for (const r of table) {
      if (r.method === 'HEAD') continue;
      const path = r.url.replace(/:([A-Za-z_]+)/g, '{$1}');
      (paths[path] ??= {})[r.method.toLowerCase()] = { responses: {} };
    }
    return { openapi: '3.1.0', info: { title: 'Auth Service', version: '1.0.0' }, paths };
  });
  route('GET', '/docs', async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .send('<!DOCTYPE html><html><head><title>Auth Service - Swagger UI</title></head><body></body></html>'),
  );
}
