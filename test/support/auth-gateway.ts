import type { DestinationStream } from 'pino';
import { request as undiciRequest } from 'undici';
import { startAuthFake, type AuthFake } from './auth-fake';
import { startGateway, type RunningGateway } from './gateway';
import { testConfig } from './stack';

export interface AuthStack {
  fake: AuthFake;
  gw: RunningGateway;
  close(): Promise<void>;
}

/** The auth-service fake plus a gateway that verifies tokens against the fake's JWKS. */
export async function startAuthStack(
  overrides: Record<string, string> = {},
  fake?: AuthFake,
  logDestination?: DestinationStream,
): Promise<AuthStack> {
  const f = fake ?? (await startAuthFake({ port: 0, internalKey: 'test-internal-key' }));
  const gw = await startGateway(
    testConfig({
      AUTH_SERVICE_URL: f.url,
      AUTH_JWKS_URL: f.jwksUrl,
      AUTH_ISSUER: f.issuer,
      INTERNAL_SERVICE_KEY: 'test-internal-key',
      COOKIE_SECURE: 'false',
      ...overrides,
    }),
    undefined,
    logDestination,
  );
  return {
    fake: f,
    gw,
    async close() {
      await gw.close();
      if (!fake) await f.close();
    },
  };
}

export interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

export async function call(
  base: string,
  method: string,
  path: string,
  opts: { body?: unknown; token?: string; headers?: Record<string, string>; raw?: string } = {},
): Promise<Res> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined = opts.raw;
  if (opts.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(opts.body);
  }
  const res = await undiciRequest(`${base}${path}`, { method: method as 'GET', headers, body });
  const text = await res.body.text();
  const json = String(res.headers['content-type'] ?? '').includes('json') && text ? JSON.parse(text) : text;
  return { status: res.statusCode, headers: res.headers, body: json };
}
