/**
 * The gateway under test and the one HTTP helper for every test.
 *
 *   const gw = await startGateway(testConfig({ ... }));        // real sockets on ephemeral ports
 *   const res = await call(gw.url, 'POST', '/v1/org', { token, body: { name: 'Acme' } });
 *   const res = await call(gw.app, 'GET', '/health/live');       // app.inject: no socket needed
 *   res.status, res.headers, res.body (parsed JSON when the answer is JSON, else the text), res.text
 *   expectError(res, 404, 'not_found');                          // the one error format, X-Request-Id
 *   afterAll(() => gw.close());
 *   const proc = await spawnGateway({ ROUTES_FILE: file });    // the built server in its own process
 *   proc.child.kill('SIGHUP'); proc.output(); await proc.stop();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { request, type Dispatcher, type FormData } from 'undici';
import { createAdminServer } from '../../src/api/admin';
import { createServer } from '../../src/api/app';
import { createDependencies, type GatewayDependencies } from '../../src/api/dependencies';
import type { Config } from '../../src/config';
import type { AuthFake } from './auth-fake';
import { createLogger } from '../../src/logger';
import { ROOT, freePort, stopProcess, waitFor } from './stack';

export interface RunningGateway {
  app: FastifyInstance;
  deps: GatewayDependencies;
  url: string;
  /** The admin listener (/codec/*, /metrics, internal docs), on its own ephemeral loopback port. */
  admin: FastifyInstance;
  adminUrl: string;
  close(): Promise<void>;
}

/** A real gateway on an ephemeral loopback port, wired to the real stack. */
export async function startGateway(
  config: Config,
  beforeListen?: (app: FastifyInstance) => void,
  logDestination?: DestinationStream,
): Promise<RunningGateway> {
  const logger = createLogger(config.LOG_LEVEL, {}, logDestination);
  const deps = await createDependencies(config, logger);
  const app = await createServer(config, logger, deps);
  beforeListen?.(app);
  const admin = await createAdminServer(config, logger, app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  await admin.listen({ host: '127.0.0.1', port: 0 });
  return {
    app,
    deps,
    url: urlOf(app),
    admin,
    adminUrl: urlOf(admin),
    async close() {
      await Promise.all([app.close(), admin.close()]);
      await deps.close();
    },
  };
}

function urlOf(app: FastifyInstance): string {
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return `http://127.0.0.1:${port}`;
}

export interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON when the answer says it is JSON (and is not empty), else the text. */
  body: any;
  text: string;
}

export interface CallOptions {
  token?: string;
  /** Sent as JSON (content-type application/json unless `headers` name another). */
  body?: unknown;
  /** Sent as it is, e.g. malformed JSON or a multipart form (a form needs a real socket). */
  raw?: string | Buffer | FormData;
  headers?: Record<string, string>;
  /** undici options for the real-socket path. */
  dispatcher?: Dispatcher;
  headersTimeout?: number;
}

/** One request: to a base URL through undici, or to a Fastify app through `app.inject`. */
export async function call(
  target: string | FastifyInstance,
  method: string,
  path: string,
  opts: CallOptions = {},
): Promise<Res> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body = opts.raw;
  if (opts.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(opts.body);
  }
  if (typeof target !== 'string') {
    if (body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body)) {
      throw new Error('call(app, …) sends strings and buffers; use the gateway URL for a form');
    }
    const res = await target.inject({ method: method as 'GET', url: path, headers, payload: body });
    return answer(res.statusCode, res.headers as Res['headers'], res.body);
  }
  const { dispatcher, headersTimeout } = opts;
  const res = await request(`${target}${path}`, { method: method as 'GET', headers, body, dispatcher, headersTimeout });
  return answer(res.statusCode, res.headers, await res.body.text());
}

/** One series' value on a /metrics page (`name` or `name{labels}` as printed), 0 while it is absent. */
export async function metricValue(url: string, series: string): Promise<number> {
  const text = String((await call(url, 'GET', '/metrics')).body);
  const found = text.split('\n').find((l) => l.startsWith(`${series} `));
  return found ? Number(found.slice(series.length + 1)) : 0;
}

/** The gateway's one error format: {detail, code, request_id} as JSON, the id also in X-Request-Id. */
export function expectError(res: Res, status: number, code: string, detail: unknown = expect.any(String)): void {
  expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
  expect(res.body).toEqual({ detail, code, request_id: res.headers['x-request-id'] });
  expect(String(res.headers['content-type'])).toContain('application/json');
}

function answer(status: number, headers: Res['headers'], text: string): Res {
  const json = String(headers['content-type'] ?? '').includes('json') && text !== '';
  return { status, headers, body: json ? JSON.parse(text) : text, text };
}

/** The settings that point a gateway at the auth fake. */
export const authFakeEnv = (auth: AuthFake): Record<string, string> => ({
  AUTH_SERVICE_URL: auth.url,
  AUTH_JWKS_URL: auth.jwksUrl,
  AUTH_ISSUER: auth.issuer,
  COOKIE_SECURE: 'false',
});

export interface GatewayProcess {
  child: ChildProcess;
  port: number;
  url: string;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM (or `signal`), then waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * The built gateway (dist) in a process of its own, as production runs it (its memory and signals
 * are its own); resolves once /health/live answers. `env` adds to or overrides the test defaults.
 */
export async function spawnGateway(env: Record<string, string>): Promise<GatewayProcess> {
  const port = await freePort();
  let output = '';
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'src', 'api', 'server.js')], {
    cwd: ROOT,
    // ADMIN_PORT 0: any free port, the default may be taken by another gateway.
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      ADMIN_PORT: '0',
      ...env,
      HOST: '127.0.0.1',
      PORT: `${port}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const url = `http://127.0.0.1:${port}`;
  const stop = (signal: NodeJS.Signals = 'SIGTERM') => stopProcess(child, signal);
  try {
    await waitFor(
      `the gateway on port ${port}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`gateway exited: ${output}`);
        return (await call(url, 'GET', '/health/live', { headersTimeout: 3_000 })).status === 200;
      },
      60_000,
    );
  } catch (err) {
    await stop('SIGKILL');
    throw err;
  }
  return { child, port, url, output: () => output, stop };
}
