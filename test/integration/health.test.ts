import { request } from 'undici';
import { startGateway, type RunningGateway } from '../support/gateway';
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

  async function get(path: string, headers: Record<string, string> = {}, base = gw.url) {
    const res = await request(`${base}${path}`, { headers });
    const text = await res.body.text();
    return {
      status: res.statusCode,
      headers: res.headers,
      text,
      json: String(res.headers['content-type']).startsWith('application/json')
        ? (JSON.parse(text) as Record<string, any>)
        : undefined,
    };
  }

  it('is live', async () => {
    const res = await get('/health/live');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'ok' });
  });

  it('is ready with PostgreSQL, Kafka and Temporal up, and reports the auth service for information only', async () => {
    const res = await get('/health/ready');
    expect(res.status).toBe(200);
    expect(res.json?.status).toBe('ready');
    for (const name of ['postgres', 'kafka', 'temporal']) {
      expect(res.json?.checks[name]).toMatchObject({ status: 'up', critical: true });
    }
    // Nothing listens on port 9: the upstream is down, yet the replica stays in rotation.
    expect(res.json?.checks['auth-service']).toMatchObject({ status: 'down', critical: false });
  });

  it('turns 503 naming Kafka while Kafka is stopped, and recovers when it is back', async () => {
    await stackService('stop', 'kafka');
    try {
      const res = await waitFor('readiness to drop', async () => {
        const r = await get('/health/ready');
        return r.status === 503 ? r : undefined;
      });
      expect(res.json?.status).toBe('not_ready');
      expect(res.json?.checks.kafka.status).toBe('down');
      expect(res.json?.checks.postgres.status).toBe('up');
      expect(res.json?.checks.temporal.status).toBe('up');
    } finally {
      await stackService('start', 'kafka');
    }
    const back = await waitFor(
      'readiness to recover',
      async () => {
        const r = await get('/health/ready');
        return r.status === 200 ? r : undefined;
      },
      60_000,
      500,
    );
    expect(back.json?.checks.kafka.status).toBe('up');
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
    expect(res.json).toEqual({ detail: 'Not found', code: 'not_found', request_id: 'rid-404' });
  });

  it('answers a wrong method on a known path with 405 and Allow', async () => {
    const res = await request(`${gw.url}/health/ready`, { method: 'DELETE' });
    const body = (await res.body.json()) as Record<string, unknown>;
    expect(res.statusCode).toBe(405);
    expect(String(res.headers.allow)).toContain('GET');
    expect(body.code).toBe('method_not_allowed');
    expect(typeof body.detail).toBe('string');
  });

  it('serves the OpenAPI document and Swagger UI', async () => {
    const spec = await get('/docs/json');
    expect(spec.status).toBe(200);
    expect(spec.json?.openapi).toMatch(/^3\./);
    const paths = Object.keys(spec.json?.paths ?? {});
    expect(paths).toEqual(expect.arrayContaining(['/health/live', '/health/ready']));
    // Internal and admin routes are documented on the admin listener only.
    expect(paths.filter((p) => p.startsWith('/auth/') || p.startsWith('/codec/'))).toEqual([]);
    const ui = await get('/docs/');
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger');
    const admin = await get('/docs/json', {}, gw.adminUrl);
    expect(admin.status).toBe(200);
    expect(Object.keys(admin.json?.paths ?? {})).toEqual(
      expect.arrayContaining(['/auth/validate', '/auth/user/{id}', '/codec/decode', '/codec/encode']),
    );
    expect((await get('/docs/', {}, gw.adminUrl)).text).toContain('swagger');
  });

  it('exports Prometheus metrics including request counts on the admin listener only', async () => {
    await get('/health/live');
    const pub = await get('/metrics');
    expect(pub.status).toBe(404);
    expect(pub.json?.code).toBe('not_found');
    const res = await get('/metrics', {}, gw.adminUrl);
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/gateway_http_requests_total\{method="GET",route="\/health\/live",status="200"\} \d+/);
  });
});
