import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { ROOT, waitFor } from '../support/stack';

jest.setTimeout(90_000);

async function freePort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  await new Promise((r) => server.close(r));
  return typeof address === 'object' && address ? address.port : 0;
}

const status = async (url: string) => {
  const res = await request(url, { headersTimeout: 3000 });
  await res.body.dump();
  return res.statusCode;
};

/** The real entrypoint (dist) and a real signal: SIGHUP reloads the table and does not stop the gateway. */
describe('kill -HUP on the gateway process', () => {
  let gateway: ChildProcess | undefined;
  afterAll(async () => {
    if (gateway && gateway.exitCode === null) {
      const exited = new Promise((r) => gateway!.once('exit', r));
      gateway.kill('SIGTERM');
      await exited;
    }
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
    const port = await freePort();
    let output = '';
    gateway = spawn(process.execPath, [join(ROOT, 'dist', 'src', 'api', 'server.js')], {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: 'test', PORT: String(port), ROUTES_FILE: file, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    gateway.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    gateway.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const base = `http://127.0.0.1:${port}`;
    await waitFor(`the gateway to listen (${output})`, async () => (await status(`${base}/v1/before`)) === 200);

    writeFileSync(file, route('after'));
    gateway.kill('SIGHUP');
    await waitFor('the reload', async () => (await status(`${base}/v1/after`)) === 200);
    expect(await status(`${base}/v1/before`)).toBe(404);
    expect(gateway.exitCode).toBeNull();
    expect(output).toContain('route table reloaded');
    expect(output).not.toContain('shutting down');
  });
});
