import { Client } from 'pg';
import type { FastifyInstance } from 'fastify';
import { MIGRATION_NAMES } from '../../migrations/names';
import { call, startGateway, type RunningGateway } from '../support/gateway';
import { stackService, testConfig, waitFor } from '../support/stack';

jest.setTimeout(240_000);

describe('gateway against the real stack', () => {
  let gw: RunningGateway;

  beforeAll(async () => {
    gw = await startGateway(testConfig({ AUTH_SERVICE_URL: 'http://127.0.0.1:9' }));
  });

  afterAll(async () => {
    await gw.close();
  });

  // No socket is needed here: the app answers through app.inject.
  const get = (path: string, headers: Record<string, string> = {}, target: FastifyInstance = gw.app) =>
    call(target, 'GET', path, { headers });

  it('is live', async () => {
    const res = await get('/health/live');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('is ready when this instance can serve, and reports every dependency by name', async () => {
    const res = await get('/health/ready');
    expect(res.body?.instance).toEqual({ started: true, migrations: 'applied', draining: false, overloaded: false });
    expect(res.status).toBe(200);
    expect(res.body?.status).toBe('ready');
    for (const name of ['postgres', 'kafka', 'temporal']) {
      expect(res.body?.checks[name]).toEqual({ status: 'up', latency_ms: expect.any(Number) });
    }
    // Nothing listens on port 9 and no chat service reads the chat topics: both are down, yet the
    // replica stays in rotation.
    expect(res.body?.checks['auth-service']).toMatchObject({ status: 'down', latency_ms: expect.any(Number) });
    expect(res.body?.checks['chat-service']).toMatchObject({ status: 'down', error: expect.any(String) });
  });

  it.each(['kafka', 'postgres'] as const)(
    'stays ready while %s is stopped, reporting it down, and reports it up again when it is back',
    async (service) => {
      await stackService('stop', service);
      try {
        const res = await waitFor(`${service} reported down`, async () => {
          const r = await get('/health/ready');
          return r.body?.checks[service].status === 'down' ? r : undefined;
        });
        expect(res.status).toBe(200);
        expect(res.body?.status).toBe('ready');
        expect(res.body?.checks.temporal.status).toBe('up');
      } finally {
        await stackService('start', service);
      }
      const back = await waitFor(
        `${service} reported up`,
        async () => {
          const r = await get('/health/ready');
          return r.body?.checks[service].status === 'up' ? r : undefined;
        },
        60_000,
        500,
      );
      expect(back.status).toBe(200);
    },
  );

  it('is not ready while this build has migrations the database lacks', async () => {
    const url = process.env.DATABASE_URL!;
    const last = MIGRATION_NAMES[MIGRATION_NAMES.length - 1];
    const db = new Client({ connectionString: url });
    await db.connect();
    // A fresh instance: the one above has seen the migrations applied and remembers it.
    const fresh = await startGateway(testConfig({ AUTH_SERVICE_URL: 'http://127.0.0.1:9' }));
    try {
      await db.query('update mikro_orm_migrations set name = name || $2 where name = $1', [last, '-hidden']);
      const res = await get('/health/ready', {}, fresh.app);
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ status: 'not_ready', instance: { migrations: 'pending' } });
    } finally {
      await db.query('update mikro_orm_migrations set name = $1 where name = $1 || $2', [last, '-hidden']);
      await db.end();
    }
    expect((await get('/health/ready', {}, fresh.app)).status).toBe(200);
    await fresh.close();
  });

  it('is not ready once it drains', async () => {
    let seen: Awaited<ReturnType<typeof call>> | undefined;
    const draining: RunningGateway = await startGateway(
      testConfig({ AUTH_SERVICE_URL: 'http://127.0.0.1:9' }),
      (app) => {
        app.addHook('preClose', async () => {
          // Asked while the instance shuts down: it still answers, and says it is draining.
          seen = await call(draining.url, 'GET', '/health/ready');
        });
      },
    );
    await draining.close();
    // The readiness report, in the one error format too, with Retry-After.
    expect(seen?.status).toBe(503);
    expect(Number(seen?.headers['retry-after'])).toBeGreaterThan(0);
    expect(seen?.body).toMatchObject({
      detail: 'This instance is shutting down',
      code: 'upstream_unavailable',
      request_id: seen?.headers['x-request-id'],
      status: 'not_ready',
      instance: { draining: true },
    });
  });

  it('echoes a valid X-Request-Id and replaces an invalid one', async () => {
    const ok = await get('/health/live', { 'x-request-id': 'client-req:42' });
    expect(ok.headers['x-request-id']).toBe('client-req:42');
    const bad = await get('/health/live', { 'x-request-id': 'has spaces and <html>' });
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers an unknown path with the JSON error format and 404', async () => {
    const res = await get('/no/such/path', { 'x-request-id': 'rid-404' });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ detail: 'Not found', code: 'not_found', request_id: 'rid-404' });
  });

  it('answers a wrong method on a known path with 405 and Allow', async () => {
    const res = await call(gw.app, 'DELETE', '/health/ready');
    expect(res.status).toBe(405);
    expect(String(res.headers.allow)).toContain('GET');
    expect(res.body.code).toBe('method_not_allowed');
    expect(typeof res.body.detail).toBe('string');
  });

  it('serves the OpenAPI document and Swagger UI', async () => {
    const spec = await get('/docs/json');
    expect(spec.status).toBe(200);
    expect(spec.body?.openapi).toMatch(/^3\./);
    const paths = Object.keys(spec.body?.paths ?? {});
    expect(paths).toEqual(expect.arrayContaining(['/health/live', '/health/ready']));
    // Internal and admin routes are documented on the admin listener only.
    expect(paths.filter((p) => p.startsWith('/auth/') || p.startsWith('/codec/'))).toEqual([]);
    const ui = await get('/docs/');
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger');
    const admin = await get('/docs/json', {}, gw.admin);
    expect(admin.status).toBe(200);
    expect(Object.keys(admin.body?.paths ?? {})).toEqual(
      expect.arrayContaining(['/auth/validate', '/auth/user/{id}', '/codec/decode', '/codec/encode']),
    );
    expect((await get('/docs/', {}, gw.admin)).text).toContain('swagger');
  });

  it('exports Prometheus metrics including request counts on the admin listener only', async () => {
    await get('/health/live');
    const pub = await get('/metrics');
    expect(pub.status).toBe(404);
    expect(pub.body?.code).toBe('not_found');
    const res = await get('/metrics', {}, gw.admin);
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/gateway_http_requests_total\{method="GET",route="\/health\/live",status="200"\} \d+/);
  });
});
