import type { AuthFakeContext, AuthRequests } from './context';
import type { Route } from './routing';
import { DetailError, RequestValidationError, canonicalUuid, isUuid, parseBody } from './validation';

/** Prefixes the auth routes are served under (the service duplicates them). */
const CLIENT_PREFIXES = ['/v1/client', '/v1/auth'] as const;

function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i).trim(), decodeURIComponent(part.slice(i + 1).trim()));
  }
  return out;
}

/** The client API (sign-up, sessions, the caller's account) under each of its prefixes. */
export function registerClientRoutes(route: Route, ctx: AuthFakeContext, h: AuthRequests): void {
  for (const prefix of CLIENT_PREFIXES) {
    registerSessionRoutes(route, ctx, h, prefix);
    registerAccountRoutes(route, ctx, h, prefix);
  }
}

function registerSessionRoutes(route: Route, ctx: AuthFakeContext, h: AuthRequests, prefix: string): void {
  const { store } = ctx;
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
    const response = await h.tokenResponse(user, session, refreshToken);
    h.setOwnCookies(reply, response);
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
    const response = await h.tokenResponse(user, session, refreshToken);
    h.setOwnCookies(reply, response);
    return reply.send(response);
  });

  route('POST', `${prefix}/refresh_token`, async (request) => {
    const body = parseBody(request.body, { refresh_token: { kind: 'string' } });
    if (ctx.keycloakDown()) throw new DetailError(401, 'Invalid refresh token');
    const { session, refreshToken } = store.refreshSession(body.refresh_token);
    const user = store.users.get(session.user_id);
    if (!user) throw new DetailError(401, 'Invalid refresh token');
    return h.tokenResponse(user, session, refreshToken);
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
}

function registerAccountRoutes(route: Route, ctx: AuthFakeContext, h: AuthRequests, prefix: string): void {
  const { store } = ctx;
  route('GET', `${prefix}/me`, async (request) => h.userView(await h.authenticate(request)));

  route('PATCH', `${prefix}/update`, async (request) => {
    const user = await h.authenticate(request);
    const body = parseBody(request.body, { full_name: { kind: 'string' } });
    user.full_name = body.full_name;
    return h.userView(user);
  });

  route('POST', `${prefix}/change-password`, async (request) => {
    const user = await h.authenticate(request);
    const body = parseBody(request.body, { old_password: { kind: 'string' }, new_password: { kind: 'string' } });
    if (ctx.keycloakDown() || !store.checkPassword(user, body.old_password)) {
      throw new DetailError(400, 'Invalid old password');
    }
    store.setPassword(user, body.new_password);
    return { message: 'Password changed successfully' };
  });

  route('PATCH', `${prefix}/switch-org`, async (request) => {
    const user = await h.authenticate(request);
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
