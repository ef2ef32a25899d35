import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call, spawnGateway, type GatewayProcess } from '../support/gateway';
import { ROOT, freePort, waitFor } from '../support/stack';

jest.setTimeout(90_000);

const status = async (base: string, path: string) => (await call(base, 'GET', path, { headersTimeout: 3000 })).status;

/** The real entrypoint (dist) and a real signal: SIGHUP reloads the table and does not stop the gateway. */
describe('kill -HUP on the gateway process', () => {
  let gateway: GatewayProcess | undefined;
  afterAll(async () => {
    await gateway?.stop();
  });

  it('refuses to start on an invalid table, with one line naming the file, entry and field', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'routes-bad-')), 'routes.yaml');
    writeFileSync(
      file,
      'upstreams: {}\nroutes:\n  - name: broken\n    methods: [GET]\n    path: /v1/x\n    upstream: nowhere\n' +
        '    upstream_path: /x\n    auth: none\n',
    );
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'src', 'api', 'server.js')], {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: 'test', PORT: String(await freePort()), ROUTES_FILE: file, LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(1);
    // (kafkajs may add a warning of its own to stderr.)
    expect(stderr.split('\n').filter((l) => l.startsWith('gateway failed to start'))).toEqual([
      `gateway failed to start: ${file}: routes[0] (broken).upstream: no upstream named "nowhere"`,
    ]);
  });

  it('swaps the route table and keeps serving', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'routes-hup-'));
    const file = join(dir, 'routes.yaml');
    const route = (name: string) =>
      `upstreams:\n  self:\n    url: http://127.0.0.1:\${PORT}\nroutes:\n  - name: ${name}\n    methods: [GET]\n` +
      `    path: /v1/${name}\n    upstream: self\n    upstream_path: /health/live\n    auth: none\n`;
    writeFileSync(file, route('before'));
    gateway = await spawnGateway({ ROUTES_FILE: file, LOG_LEVEL: 'info' });
    const base = gateway.url;
    await waitFor('the route to the gateway itself', async () => (await status(base, '/v1/before')) === 200);

    writeFileSync(file, route('after'));
    gateway.child.kill('SIGHUP');
    await waitFor('the reload', async () => (await status(base, '/v1/after')) === 200);
    expect(await status(base, '/v1/before')).toBe(404);
    expect(gateway.child.exitCode).toBeNull();
    expect(gateway.output()).toContain('route table reloaded');
    expect(gateway.output()).not.toContain('shutting down');
  });
});
