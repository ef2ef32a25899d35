import { createServer, get as httpGet, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { request } from 'undici';
import { captureLog } from '../support/log-capture';
import { call, startAuthStack, type AuthStack } from '../support/auth-gateway';
import { waitFor } from '../support/stack';

jest.setTimeout(60_000);

/** An upstream that echoes what it received; `?delay=ms` holds the answer. */
async function startEcho(name: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const delay = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('delay') ?? 0);
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () =>
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json', 'x-echo': name, 'set-cookie': 'a=b' });
        res.end(JSON.stringify({ upstream: name, url: req.url, headers: req.headers, body }));
      }, delay),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, server };
}

const entry = (name: string, path: string, upstream: string, extra = '') => `
  - name: ${name}
    methods: [GET]
    path: ${path}
    upstream: ${upstream}
    upstream_path: /echo/{id}
    auth: none
    response_headers: [x-echo, set-cookie]${extra}`;

describe('route table reload without a restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'routes-'));
  const file = join(dir, 'routes.yaml');
  const log = captureLog();
  let one: { url: string; server: Server };
  let two: { url: string; server: Server };
  let s: AuthStack;

  const write = (routes: string) =>
    writeFileSync(file, `upstreams:\n  one:\n    url: \${ONE_URL}\n  two:\n    url: \${TWO_URL}\nroutes:${routes}\n`);
  const version = () => s.gw.app.routeTable.current.version;
  // Jest gives test code its own `process` object: the gateway's SIGHUP listener sits on it, so
  // the signal is emitted there (a real kill -HUP would reach the runner's process instead).
  const sighup = () => process.emit('SIGHUP', 'SIGHUP');

  beforeAll(async () => {
    one = await startEcho('one');
    two = await startEcho('two');
    process.env.ONE_URL = one.url;
    process.env.TWO_URL = two.url;
    write(
      entry('old-route', '/v1/old/{id}', 'one') +
        entry('kept-route', '/v1/kept/{id}', 'one') +
        entry('limited-route', '/v1/limited/{id}', 'one', '\n    rate_limit_per_minute: 2') +
        entry('upload-route', '/v1/upload/{id}', 'one', '\n    body_limit: 16').replace('[GET]', '[POST]') +
        entry('internal-route', '/v1/internal-echo/{id}', 'one').replace('auth: none', 'auth: internal'),
    );
    s = await startAuthStack({ ROUTES_FILE: file, LOG_LEVEL: 'info' }, undefined, log.stream);
  });
  afterAll(async () => {
    await s.close();
    one.server.close();
    two.server.close();
  });

  it('proxies a table route: path parameters, only allowed response headers, no upstream cookies', async () => {
    // node:http, because undici will not send a Connection header that names other headers.
    const res = await new Promise<{ status: number; headers: IncomingHttpHeaders; body: any }>((resolve, reject) => {
      const req = httpGet(
        `${s.gw.url}/v1/kept/42?x=1`,
        { headers: { 'x-user-data': 'forged', connection: 'x-secret', 'x-secret': 'hop', cookie: 'c=1' } },
        (r) => {
          let text = '';
          r.on('data', (c: Buffer) => (text += c.toString()));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, body: JSON.parse(text) }));
        },
      );
      req.on('error', reject);
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ upstream: 'one', url: '/echo/42?x=1' });
    expect(res.body.headers['x-request-id']).toBe(res.headers['x-request-id']);
    for (const h of ['x-user-data', 'x-secret', 'cookie', 'authorization']) expect(res.body.headers[h]).toBeUndefined();
    expect(res.headers['x-echo']).toBe('one');
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('enforces the per-route body limit (413) and rate limit (429 + Retry-After), and forwards the body', async () => {
    const small = await call(s.gw.url, 'POST', '/v1/upload/1', {
      raw: 'twelve bytes',
      headers: { 'content-type': 'text/plain' },
    });
    expect(small.status).toBe(200);
    expect(small.body).toMatchObject({ body: 'twelve bytes', headers: { 'content-type': 'text/plain' } });
    const big = await call(s.gw.url, 'POST', '/v1/upload/1', { body: { text: 'more than sixteen bytes' } });
    expect(big.status).toBe(413);
    expect(big.body.code).toBe('payload_too_large');
    // Chunked, with no length declared: the body is counted as it arrives.
    const chunked = await request(`${s.gw.url}/v1/upload/1`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: Readable.from(['more than ', 'sixteen ', 'bytes']),
    });
    expect(chunked.statusCode).toBe(413);
    expect(((await chunked.body.json()) as { code: string }).code).toBe('payload_too_large');
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await call(s.gw.url, 'GET', '/v1/limited/1'));
    expect(statuses.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(statuses[2]!.body.code).toBe('rate_limited');
    expect(Number(statuses[2]!.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('an internal table route needs the X-Internal-Key: none or a wrong one → 401', async () => {
    for (const headers of [{}, { 'x-internal-key': 'client-guess' }] as Record<string, string>[]) {
      const refused = await call(s.gw.url, 'GET', '/v1/internal-echo/7', { headers });
      expect(refused.status).toBe(401);
      expect(refused.body.code).toBe('unauthorized');
    }
    const ok = await call(s.gw.url, 'GET', '/v1/internal-echo/7', {
      headers: { 'x-internal-key': s.gw.app.config.INTERNAL_SERVICE_KEY },
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ upstream: 'one', url: '/echo/7' });
  });

  it('SIGHUP adds a route and removes another; requests in flight finish on the old table', async () => {
    const before = version();
    const inFlight = Promise.all([
      call(s.gw.url, 'GET', '/v1/old/1?delay=700'),
      call(s.gw.url, 'GET', '/v1/kept/2?delay=700'),
    ]);
    await new Promise((r) => setTimeout(r, 150));
    // `one` leaves the table: its pool closes only once the requests holding it are done.
    write(entry('new-route', '/v1/new/{id}', 'two') + entry('kept-route', '/v1/kept/{id}', 'two'));
    sighup();
    await waitFor('the new table', async () => version() === before + 1);

    const [old, kept] = await inFlight;
    expect(old.status).toBe(200);
    expect(old.body.upstream).toBe('one');
    expect(kept.status).toBe(200);
    expect(kept.body.upstream).toBe('one');

    expect((await call(s.gw.url, 'GET', '/v1/old/1')).status).toBe(404);
    const added = await call(s.gw.url, 'GET', '/v1/new/7');
    expect(added.status).toBe(200);
    expect(added.body).toMatchObject({ upstream: 'two', url: '/echo/7' });
    expect((await call(s.gw.url, 'GET', '/v1/kept/3')).body.upstream).toBe('two');
    // The docs follow the table in use.
    const docs = await call(s.gw.url, 'GET', '/docs/json');
    expect(Object.keys(docs.body.paths)).toEqual(expect.arrayContaining(['/v1/new/{id}', '/v1/kept/{id}']));
    expect(docs.body.paths['/v1/old/{id}']).toBeUndefined();
  });

  it('refuses an invalid table: the old one stays, the reason is logged and the failure counted', async () => {
    const before = version();
    const failures = async () =>
      (await s.gw.app.metrics.getSingleMetric('gateway_routes_reload_failures_total')?.get())?.values[0]?.value ?? 0;
    const failed = await failures();
    write(entry('new-route', '/v1/new/{id}', 'two', '\n    timeout_ms: soon'));
    sighup();
    await waitFor('the refusal', async () => (await failures()) === failed + 1);
    expect(version()).toBe(before);
    expect((await call(s.gw.url, 'GET', '/v1/new/8')).status).toBe(200);
    expect(log.text()).toContain('routes[0] (new-route).timeout_ms: Expected integer');
  });

  it('answers paths outside the table and the gateway as before: 404, and 405 with Allow', async () => {
    const missing = await call(s.gw.url, 'GET', '/v1/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('not_found');
    const wrong = await call(s.gw.url, 'POST', '/v1/client/me', { body: {} });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toContain('GET');
  });
});

describe('route table in development', () => {
  it('reloads when the file is replaced, without a signal', async () => {
    const echo = await startEcho('dev');
    process.env.DEV_URL = echo.url;
    const dir = mkdtempSync(join(tmpdir(), 'routes-dev-'));
    const file = join(dir, 'routes.yaml');
    const write = (routes: string) =>
      writeFileSync(file, `upstreams:\n  dev:\n    url: \${DEV_URL}\nroutes:${routes}\n`);
    write(entry('first', '/v1/first/{id}', 'dev'));
    const dev = await startAuthStack({ ROUTES_FILE: file, NODE_ENV: 'development' });
    try {
      // As editors save: a new file renamed over the old one.
      writeFileSync(
        `${file}.tmp`,
        `upstreams:\n  dev:\n    url: \${DEV_URL}\nroutes:${entry('second', '/v1/second/{id}', 'dev')}\n`,
      );
      renameSync(`${file}.tmp`, file);
      await waitFor('the watched reload', async () => (await call(dev.gw.url, 'GET', '/v1/second/1')).status === 200);
      expect((await call(dev.gw.url, 'GET', '/v1/first/1')).status).toBe(404);
    } finally {
      await dev.close();
      echo.server.close();
    }
  });
});
