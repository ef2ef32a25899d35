import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuthServiceClient } from '../../src/upstreams/auth-service';
import { createLogger } from '../../src/logger';
import { captureLog } from '../support/log-capture';

/** A stand-in upstream on loopback that records what reaches it and answers JSON. */
async function recordingUpstream(): Promise<{ server: Server; base: string; seen: IncomingMessage[] }> {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function client(url: string) {
  return new AuthServiceClient(
    {
      AUTH_SERVICE_URL: url,
      AUTH_SERVICE_TIMEOUT_MS: 2_000,
      AUTH_SERVICE_RETRIES: 0,
      AUTH_SERVICE_MAX_ANSWER_BYTES: 8 * 1024 * 1024,
      AUTH_BREAKER_THRESHOLD: 5,
      AUTH_BREAKER_COOLDOWN_MS: 10_000,
      INTERNAL_SERVICE_KEY: 'test-internal-key',
    },
    createLogger('warn', {}, captureLog().stream),
  );
}

describe('AuthServiceClient request target', () => {
  let up: Awaited<ReturnType<typeof recordingUpstream>>;
  beforeEach(async () => {
    up = await recordingUpstream();
  });
  afterEach(async () => {
    await new Promise((resolve) => up.server.close(resolve));
  });

  it('sends the path and query under the host of AUTH_SERVICE_URL', async () => {
    const auth = client(up.base);
    try {
      const res = await auth.call('GET', '/v1/client/validate', { query: { token: 'a b&c' } });
      expect(res).toEqual({ status: 200, body: { ok: true } });
      expect(up.seen.map((r) => [r.method, r.url])).toEqual([['GET', '/v1/client/validate?token=a+b%26c']]);
    } finally {
      await auth.close();
    }
  });

  it('keeps a base path of AUTH_SERVICE_URL (with or without a trailing slash) in front of every path', async () => {
    for (const base of [`${up.base}/auth-prefix`, `${up.base}/auth-prefix/`]) {
      const auth = client(base);
      try {
        await auth.call('GET', '/v1/client/validate', { token: 'tkn' });
      } finally {
        await auth.close();
      }
    }
    expect(up.seen.map((r) => r.url)).toEqual(['/auth-prefix/v1/client/validate', '/auth-prefix/v1/client/validate']);
    expect(up.seen[0]!.headers.authorization).toBe('Bearer tkn');
  });
});

describe('AuthServiceClient answers', () => {
  it('reads JSON that starts with a byte-order mark', async () => {
    const bom = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('\ufeff{"ok":true}');
    });
    await new Promise<void>((resolve) => bom.listen(0, '127.0.0.1', resolve));
    const auth = client(`http://127.0.0.1:${(bom.address() as AddressInfo).port}`);
    try {
      await expect(auth.call('GET', '/v1/client/validate')).resolves.toEqual({ status: 200, body: { ok: true } });
    } finally {
      await auth.close();
      await new Promise((resolve) => bom.close(resolve));
    }
  });
});

describe('AuthServiceClient transport failures', () => {
  it('answers 503 with Retry-After when the auth service cannot be reached', async () => {
    const auth = client('http://127.0.0.1:9');
    try {
      await expect(auth.call('POST', '/v1/client/logout')).rejects.toMatchObject({
        code: 'upstream_unavailable',
        detail: 'Auth service is unavailable',
        transient: true,
        extra: { headers: { 'retry-after': '1' } },
      });
    } finally {
      await auth.close();
    }
  });

  it('answers 504 when the auth service does not answer within the deadline', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const auth = client(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`);
    try {
      await expect(auth.call('GET', '/v1/client/me', { timeoutMs: 200, retry: false })).rejects.toMatchObject({
        code: 'upstream_timeout',
        detail: 'Auth service timed out',
        transient: true,
      });
    } finally {
      await auth.close();
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('answers 504 when the body trickles past the deadline (undici timeouts only bound the gaps)', async () => {
    const trickle = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const tick = setInterval(() => res.write(' '), 50);
      res.on('close', () => clearInterval(tick));
    });
    await new Promise<void>((resolve) => trickle.listen(0, '127.0.0.1', resolve));
    const auth = client(`http://127.0.0.1:${(trickle.address() as AddressInfo).port}`);
    try {
      await expect(auth.call('GET', '/v1/client/me', { timeoutMs: 300, retry: false })).rejects.toMatchObject({
        code: 'upstream_timeout',
      });
    } finally {
      await auth.close();
      trickle.closeAllConnections();
      await new Promise((resolve) => trickle.close(resolve));
    }
  });
});
