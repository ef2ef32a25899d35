import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify';
import { gatewayApp, serverOptions } from '../../src/api/app';
import { createDependencies, type GatewayDependencies } from '../../src/api/dependencies';
import { createLogger } from '../../src/logger';
import { call, type Res } from '../support/auth-gateway';
import { startAuthFake, type AuthFake } from '../support/auth-fake';
import { testConfig } from '../support/stack';

jest.setTimeout(60_000);

/**
 * Routes that answer without a user token. Everything else the app registers must refuse an
 * anonymous request with 401 before reading its body: a new route lands here only on purpose.
 */
const PUBLIC = [
  /^(GET|HEAD) \/health\//,
  /^(GET|HEAD) \/docs(\/|$)/,
  /^(GET|HEAD) \/asyncapi/,
  /^(GET|HEAD) \/metrics$/,
  /^(GET|HEAD|POST) \/codec\//,
  /^OPTIONS /,
  /^POST \/v1\/client\/(sign-up|sign-in\/password|refresh_token|logout)$/,
  /^(GET|HEAD) \/api\/chat\/settings\/$/,
  // Sign-up operations answer without a token; any other operation id needs one (checked below).
  /^(GET|HEAD) \/v1\/operations\/\*$/,
  // Internal routes: their own X-Internal-Key check (also 401 without it, checked below).
  /^GET \/auth\//,
  // The route table's dispatcher: it authenticates per table entry before the body is read (an
  // unknown path is 404); its user routes are checked in billing-routes.test.ts.
  /^[A-Z]+ \/\*$/,
];

const MALFORMED = '{"title": "unterminated';

function concretePath(url: string): string {
  return url.replace(/:[A-Za-z_]+/g, '1').replace('*', 'chat-delete-all/prompts/x');
}

function expectUnauthorized(res: Res, what: string) {
  expect({ what, status: res.status }).toEqual({ what, status: 401 });
  expect(res.body).toEqual({ detail: expect.any(String), code: 'unauthorized', request_id: expect.any(String) });
  expect(res.headers['x-request-id']).toBe(res.body.request_id);
}

describe('authentication before any body work', () => {
  let fake: AuthFake;
  let deps: GatewayDependencies;
  let app: FastifyInstance;
  const routes: { method: string; url: string }[] = [];

  beforeAll(async () => {
    fake = await startAuthFake({ port: 0, internalKey: 'test-internal-key' });
    const config = testConfig({
      AUTH_SERVICE_URL: fake.url,
      AUTH_JWKS_URL: fake.jwksUrl,
      AUTH_ISSUER: fake.issuer,
      INTERNAL_SERVICE_KEY: 'test-internal-key',
    });
    const logger = createLogger(config.LOG_LEVEL);
    deps = await createDependencies(config, logger);
    app = Fastify(serverOptions(config, logger));
    // Registered before the app, so it sees every route of every scope.
    app.addHook('onRoute', (route: RouteOptions) => {
      for (const method of ([] as string[]).concat(route.method)) routes.push({ method, url: route.url });
    });
    await app.register(gatewayApp, { config, deps });
    // No socket: every request goes through app.inject.
    await app.ready();
  });

  afterAll(async () => {
    await app?.close();
    await deps?.close();
    await fake?.close();
  });

  it('POST /v1/client/change-password with a body but no token answers 401, not a validation error', async () => {
    const res = await call(app, 'POST', '/v1/client/change-password', { body: { old_password: 'x' } });
    expectUnauthorized(res, 'change-password');
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });

  it('every route that needs a user refuses a malformed body without a token (or with a bad one) with 401', async () => {
    const guarded = routes.filter((r) => r.method !== 'HEAD' && !PUBLIC.some((p) => p.test(`${r.method} ${r.url}`)));
    // The user routes of the gateway-http.md table are all there (a sanity floor, not the list).
    expect(guarded.length).toBeGreaterThanOrEqual(35);
    for (const { method, url: routeUrl } of guarded) {
      const path = concretePath(routeUrl);
      const body = method === 'GET' ? {} : { raw: MALFORMED, headers: { 'content-type': 'application/json' } };
      const anonymous = await call(app, method, path, body);
      expectUnauthorized(anonymous, `${method} ${routeUrl}`);
      const forged = await call(app, method, path, { ...body, token: 'not-a-jwt' });
      expectUnauthorized(forged, `${method} ${routeUrl} with a forged token`);
    }
  });

  it('the routes outside the user scope keep their own checks: operations and internal routes', async () => {
    expectUnauthorized(await call(app, 'GET', '/v1/operations/chat-delete-all%2Fprompts%2Fx'), 'operations');
    const internal = routes.filter((r) => r.method === 'GET' && r.url.startsWith('/auth/'));
    expect(internal.length).toBeGreaterThan(0);
    for (const r of internal) expectUnauthorized(await call(app, 'GET', concretePath(r.url)), r.url);
  });
  it('GET /v1/client/me runs no preValidation or preHandler hook; the UUID and rate-limit hooks sit on their routes', () => {
    // Each async hook costs a promise and a microtask on every request of the direct path (docs/performance.md).
    const tree = app.printRoutes({ includeHooks: true, commonPrefix: false });
    const hooksOf = (method: string, url: string) => {
      const lines = tree.split('\n');
      const start = lines.findIndex((l) => l.includes(` ${url} (${method})`));
      expect(start).toBeGreaterThanOrEqual(0);
      const end = lines.findIndex((l, i) => i > start && !l.includes('•'));
      return lines.slice(start + 1, end === -1 ? undefined : end).join('\n');
    };
    const me = hooksOf('GET', '/v1/client/me');
    expect(me).not.toMatch(/\((preValidation|preHandler)\)/);
    expect(hooksOf('POST', '/v1/client/sign-in/password')).toMatch(/\(preHandler\) \["limit\(\)/);
    expect(tree).toMatch(/\(preValidation\) \["canonicalUuids\(\)/); // e.g. /v1/org/:id/members
  });
});
