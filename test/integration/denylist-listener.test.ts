import { createServer, connect, type Server, type Socket } from 'node:net';
import { Client } from 'pg';
import { LISTENER_APPLICATION_NAME, TokenDenylist } from '../../src/auth/denylist';
import { Database } from '../../src/db/database';
import { createLogger } from '../../src/logger';
import { startAuthStack, call, type AuthStack } from '../support/auth-gateway';
import type { RunningGateway } from '../support/gateway';
import { testConfig, waitFor } from '../support/stack';

jest.setTimeout(120_000);

/**
 * A TCP proxy to PostgreSQL that can make the denylist's LISTEN connection go silent without
 * closing it (as a dead peer behind NAT or a failover does): no FIN, no RST, just no bytes.
 */
async function startSilencingProxy(target: URL) {
  const listenSessions = new Set<Socket>();
  const silenced = new Set<Socket>();
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    client.on('data', (chunk) => {
      if (chunk.includes(LISTENER_APPLICATION_NAME)) listenSessions.add(client);
      if (!silenced.has(client)) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!silenced.has(client)) client.write(chunk);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as { port: number }).port);
  return {
    url: url.toString(),
    /** The LISTEN sessions open now get no bytes either way from here on; later sessions do. */
    silenceListener(): number {
      for (const socket of listenSessions) silenced.add(socket);
      return silenced.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('denylist LISTEN connection', () => {
  let s: AuthStack;
  let second: RunningGateway;
  let db: Client;

  beforeAll(async () => {
    s = await startAuthStack();
    second = await s.replica();
    db = new Client({ connectionString: testConfig().DATABASE_URL });
    await db.connect();
  });

  afterAll(async () => {
    await db.end();
    await second.close();
    await s.close();
  });

  const listeners = async () =>
    (
      await db.query<{ pid: number }>('select pid from pg_stat_activity where application_name = $1', [
        LISTENER_APPLICATION_NAME,
      ])
    ).rows.map((r) => r.pid);

  async function logoutOnFirstIsRefusedBySecond() {
    const user = await s.user('listen');
    expect((await call(second.url, 'GET', '/v1/client/me', { token: user.token })).status).toBe(200);
    const out = await call(s.gw.url, 'POST', '/v1/client/logout', {
      token: user.token,
      body: { refresh_token: user.refresh },
    });
    expect(out.status).toBe(204);
    // Within the ~30 s bound of issue 12 (in practice at once).
    await waitFor(
      'the second gateway to refuse the logged-out token',
      async () => (await call(second.url, 'GET', '/v1/client/me', { token: user.token })).status === 401,
      30_000,
      250,
    );
  }

  it('leaves no LISTEN session behind when closed while it is still connecting', async () => {
    const config = testConfig();
    const db = new Database(config);
    try {
      const before = await listeners();
      for (let i = 0; i < 5; i += 1) {
        const denylist = new TokenDenylist(config.DATABASE_URL, db, createLogger('silent'));
        const started = denylist.start();
        await denylist.close(); // before its LISTEN session is up
        await started;
      }
      // A session that close() missed would still be open; give a late one time to appear.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect((await listeners()).filter((pid) => !before.includes(pid))).toEqual([]);
    } finally {
      await db.close();
    }
  });

  it('reconnects after its backend is terminated, and logouts keep reaching every replica', async () => {
    const before = await waitFor('both LISTEN sessions', async () => {
      const pids = await listeners();
      return pids.length >= 2 ? pids : undefined;
    });
    await db.query('select pg_terminate_backend(pid) from unnest($1::int[]) as pid', [before]);
    await logoutOnFirstIsRefusedBySecond();
    // Both replicas are listening again on new sessions, resynchronised.
    await waitFor(
      'new LISTEN sessions',
      async () => {
        const pids = await listeners();
        return pids.length >= 2 && pids.every((p) => !before.includes(p));
      },
      30_000,
      500,
    );
    await logoutOnFirstIsRefusedBySecond();
  });

  it('notices a LISTEN socket that went silent (no FIN) within ~30 s and resynchronises', async () => {
    const proxy = await startSilencingProxy(new URL(testConfig().DATABASE_URL));
    const viaProxy = await s.replica({ DATABASE_URL: proxy.url });
    try {
      const user = await s.user('silent');
      expect((await call(viaProxy.url, 'GET', '/v1/client/me', { token: user.token })).status).toBe(200);
      expect(proxy.silenceListener()).toBe(1);
      const out = await call(s.gw.url, 'POST', '/v1/client/logout', {
        token: user.token,
        body: { refresh_token: user.refresh },
      });
      expect(out.status).toBe(204);
      // The NOTIFY is lost in the silent socket; the heartbeat must find out and fall back/resync.
      await waitFor(
        'the proxied gateway to refuse the logged-out token',
        async () => (await call(viaProxy.url, 'GET', '/v1/client/me', { token: user.token })).status === 401,
        30_000,
        500,
      );
    } finally {
      await viaProxy.close();
      await proxy.close();
    }
  });
});
