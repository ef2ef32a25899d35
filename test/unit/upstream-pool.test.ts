import diagnostics from 'node:diagnostics_channel';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { upstreamPoolGauges } from '../../src/upstreams/pool-metrics';
import { UpstreamPool } from '../../src/upstreams/upstream-pool';

/**
 * The pool on undici's dispatch API (src/upstreams/pool-call.ts): whole answers, one deadline per
 * call even while it waits for a connection, at most one call per connection in undici (the rest
 * wait in the pool's admission, in order), and no connection lost to a call that ended waiting.
 */
async function listen(handler: (path: string, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => handler(req.url ?? '', res));
  server.on('connection', () => (connectionsOpened += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

function pool(
  url: string,
  connections = 8,
  stall?: { breakerThreshold: number; breakerStallMs: number },
  opts: { maxAnswerBytes?: number; breakerThreshold?: number; warn?: (o: object, msg: string) => void } = {},
): UpstreamPool {
  return new UpstreamPool(
    {
      name: 'test',
      title: 'Test upstream',
      url,
      agent: { connections, keepAliveTimeout: 5_000, connect: { timeout: 1_000 } },
      breakerThreshold: opts.breakerThreshold ?? 100,
      breakerCooldownMs: 1_000,
      maxAnswerBytes: opts.maxAnswerBytes ?? 1024 * 1024,
      ...stall,
    },
    // pino's LogFn overloads, as the pool calls it: (fields, message).
    { warn: (opts.warn ?? (() => undefined)) as never },
  );
}

/** How the upstream's answers to /big ended: written whole, or cut off by the gateway. */
const bigAnswers: ('finished' | 'cut off')[] = [];

let connectionsOpened = 0;

/** The pool gauges' sample lines, as /metrics shows them. */
async function poolMetrics(): Promise<string[]> {
  const registry = new Registry();
  for (const gauge of upstreamPoolGauges) registry.registerMetric(gauge);
  return (await registry.metrics()).split('\n').filter((line) => line.startsWith('gateway_upstream_pool_'));
}
const get = (path: string, timeoutMs = 2_000) => ({ method: 'GET', path, headers: {}, timeoutMs });

async function waitUntil(ok: () => boolean): Promise<void> {
  const until = Date.now() + 3_000;
  while (!ok()) {
    if (Date.now() > until) throw new Error('condition not met within 3 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('UpstreamPool', () => {
  let up: { server: Server; url: string };
  const pending: ServerResponse[] = [];
  beforeAll(async () => {
    up = await listen((path, res) => {
      if (path.startsWith('/hang')) {
        pending.push(res);
        return;
      }
      if (path.startsWith('/big')) {
        // /big?n=N: N bytes with a Content-Length; /big-chunked?n=N: the same in 16 KB chunks without one;
        // &status=S: with that status.
        const query = new URL(path, 'http://x').searchParams;
        const n = Number(query.get('n'));
        const chunked = path.startsWith('/big-chunked');
        res.writeHead(Number(query.get('status') ?? 200), {
          'content-type': 'text/plain',
          ...(chunked ? {} : { 'content-length': n }),
        });
        res.on('close', () => bigAnswers.push(res.writableFinished ? 'finished' : 'cut off'));
        let sent = 0;
        const more = () => {
          while (sent < n) {
            const size = Math.min(16 * 1024, n - sent);
            sent += size;
            if (!res.write(Buffer.alloc(size, 'x'))) return void res.once('drain', more);
          }
          res.end();
        };
        more();
        return;
      }
      if (path === '/hints') res.writeEarlyHints({ link: '</x.css>; rel=preload' });
      if (path === '/fail') return void res.writeHead(500).end();
      res.writeHead(path === '/missing' ? 404 : 200, { 'content-type': 'application/json', 'x-extra': 'yes' });
      if (path === '/chunks') {
        let n = 0;
        const tick = setInterval(() => {
          res.write(`${n ? ',' : '['}${n}`);
          if (++n === 5) {
            clearInterval(tick);
            res.end(']');
          }
        }, 5);
        return;
      }
      res.end(path === '/empty' ? undefined : '{"ok":true}');
    });
  });
  afterAll(async () => {
    for (const res of pending) res.destroy();
    await close(up.server);
  });

  it('answers status, headers and the whole body, whatever its chunks', async () => {
    const p = pool(up.url);
    try {
      const whole = await p.send(get('/chunks'));
      expect(whole.status).toBe(200);
      expect(whole.headers['x-extra']).toBe('yes');
      expect(JSON.parse(whole.body.toString())).toEqual([0, 1, 2, 3, 4]);
      const missing = await p.send(get('/missing'));
      expect([missing.status, missing.body.toString()]).toEqual([404, '{"ok":true}']);
      const empty = await p.send(get('/empty'));
      expect([empty.status, empty.body.length]).toEqual([200, 0]);
    } finally {
      await p.close();
    }
  });

  it('takes the final answer after a 1xx informational one', async () => {
    const p = pool(up.url);
    try {
      const res = await p.send(get('/hints'));
      expect([res.status, res.headers['x-extra'], res.body.toString()]).toEqual([200, 'yes', '{"ok":true}']);
    } finally {
      await p.close();
    }
  });

  it('ends a call that waits for a connection at its own deadline, then serves the next', async () => {
    const p = pool(up.url, 1);
    try {
      const first = p.send(get('/hang', 5_000)).catch((err: unknown) => err);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const started = performance.now();
      // The one connection is busy with /hang: this call is queued and must still end at 200 ms,
      // as a 503 its caller does not retry (nothing was sent; a retry would queue behind the same).
      const queued = await p.send(get('/ok', 200)).catch((err: unknown) => err);
      expect(queued).toMatchObject({ code: 'upstream_unavailable', transient: false });
      expect(performance.now() - started).toBeLessThan(1_500);
      pending.shift()?.end('{}');
      expect(await first).toMatchObject({ status: 200 });
      // The call that ended waiting never reached undici: the one connection serves on.
      const opened = connectionsOpened;
      expect((await p.send(get('/ok'))).status).toBe(200);
      expect(connectionsOpened).toBe(opened);
      expect(p.admission.waiting).toBe(0);
    } finally {
      await p.close();
    }
  });

  it('keeps calls past its connections waiting in order, each admitted as a place frees', async () => {
    const p = pool(up.url, 2);
    try {
      const calls = [1, 2, 3, 4, 5].map((n) =>
        p.send(get(`/hang?n=${n}`, 5_000)).then((res) => ({ n, body: res.body.toString() })),
      );
      await waitUntil(() => pending.length === 2);
      expect(p.admission.waiting).toBe(3);
      // What an operator sees: both connections busy, three calls waiting.
      expect(await poolMetrics()).toEqual([
        'gateway_upstream_pool_in_flight{upstream="test"} 2',
        'gateway_upstream_pool_waiting{upstream="test"} 3',
      ]);
      const order: number[] = [];
      for (let i = 0; i < 5; i += 1) {
        await waitUntil(() => pending.length > 0);
        // Never more than the two connections' worth of calls at the upstream.
        expect(pending.length).toBeLessThanOrEqual(2);
        const res = pending.shift()!;
        order.push(Number(new URL(res.req.url!, 'http://x').searchParams.get('n')));
        res.end('{}');
      }
      // The first two share the two connections in either order; the rest follow their queue.
      expect([...order.slice(0, 2)].sort()).toEqual([1, 2]);
      expect(order.slice(2)).toEqual([3, 4, 5]);
      expect((await Promise.all(calls)).map((c) => c.n)).toEqual([1, 2, 3, 4, 5]);
      expect(p.admission.waiting).toBe(0);
      expect(await poolMetrics()).toEqual([
        'gateway_upstream_pool_in_flight{upstream="test"} 0',
        'gateway_upstream_pool_waiting{upstream="test"} 0',
      ]);
    } finally {
      await p.close();
    }
    // A closed pool is no longer reported.
    expect(await poolMetrics()).toEqual([]);
  });

  it('sends no waiting call to the upstream when a stall ends the running ones with it', async () => {
    // One connection, a frozen upstream: the stall check ends the running GET and the waiting one
    // together. Freeing the running one's place must not hand the waiting one to undici first,
    // only for the same check to abort it there.
    const p = pool(up.url, 1, { breakerThreshold: 1, breakerStallMs: 200 });
    const handedToUndici: string[] = [];
    const onCreate = (msg: unknown) => handedToUndici.push((msg as { request: { path: string } }).request.path);
    diagnostics.subscribe('undici:request:create', onCreate);
    try {
      const running = p.send(get('/hang', 5_000)).catch((err: unknown) => err);
      await waitUntil(() => pending.length === 1);
      const waiting = p.send(get('/ok', 5_000)).catch((err: unknown) => err);
      expect(await running).toMatchObject({ code: 'upstream_unavailable' });
      expect(await waiting).toMatchObject({ code: 'upstream_unavailable' });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(handedToUndici).toEqual(['/hang']);
      expect(p.admission.waiting).toBe(0);
    } finally {
      diagnostics.unsubscribe('undici:request:create', onCreate);
      pending.shift()?.destroy();
      await p.close();
    }
  });

  it('reads an answer up to maxAnswerBytes and cuts off a longer one with a 502 that does not open the breaker', async () => {
    const warned: { msg: string; fields: object }[] = [];
    const p = pool(up.url, 1, undefined, {
      maxAnswerBytes: 64 * 1024,
      breakerThreshold: 1,
      warn: (fields, msg) => warned.push({ msg, fields }),
    });
    try {
      const exact = await p.send(get('/big?n=65536'));
      expect([exact.status, exact.body.length]).toEqual([200, 65_536]);
      const exactChunked = await p.send(get('/big-chunked?n=65536'));
      expect(exactChunked.body.length).toBe(65_536);
      // One byte over, announced by Content-Length; 64 MiB with one, and without one (found while reading).
      const tooLong = async (path: string) => {
        bigAnswers.length = 0;
        const err = await p.send(get(path)).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'upstream_error', transient: false });
        expect((err as Error).message).toBe('Test upstream answered more than the gateway accepts');
        await waitUntil(() => bigAnswers.length === 1);
        return bigAnswers[0];
      };
      await tooLong('/big?n=65537');
      // The gateway stopped reading the 64 MiB answers: their connections were closed under them.
      expect(await tooLong('/big?n=67108864')).toBe('cut off');
      expect(await tooLong('/big-chunked?n=67108864')).toBe('cut off');
      const big = { upstream: 'test', method: 'GET', path: '/big', limit: 65_536 };
      expect(warned.map((w) => [w.msg, w.fields])).toEqual([
        ['upstream answer too large', big],
        ['upstream answer too large', big],
        ['upstream answer too large', { ...big, path: '/big-chunked' }],
      ]);
      // A breaker that opens at one failure is still closed, and the pool's one connection serves on.
      expect(p.breaker.current).toBe('closed');
      expect((await p.send(get('/ok'))).body.toString()).toBe('{"ok":true}');
    } finally {
      await p.close();
    }
  });

  it('ends a half-open breaker’s trial that answers too much, so the upstream is tried again', async () => {
    const p = pool(up.url, 1, undefined, { maxAnswerBytes: 64 * 1024, breakerThreshold: 1 });
    try {
      expect((await p.send(get('/fail'))).status).toBe(500);
      expect(p.breaker.current).toBe('open');
      // Past the 1 s cooldown the next call is the breaker's one trial. A trial answering 500 with
      // too much re-opens the breaker; one answering 200 with too much closes it.
      await new Promise((resolve) => setTimeout(resolve, 1_050));
      await expect(p.send(get('/big?n=67108864&status=500'))).rejects.toMatchObject({ code: 'upstream_error' });
      expect(p.breaker.current).toBe('open');
      await new Promise((resolve) => setTimeout(resolve, 1_050));
      await expect(p.send(get('/big?n=67108864'))).rejects.toMatchObject({ code: 'upstream_error' });
      expect(p.breaker.current).toBe('closed');
      expect((await p.send(get('/ok'))).status).toBe(200);
    } finally {
      await p.close();
    }
  });

  it('takes a HEAD answer that announces more than maxAnswerBytes: no body follows it', async () => {
    const p = pool(up.url, 1, undefined, { maxAnswerBytes: 64 * 1024 });
    try {
      const head = await p.send({ ...get('/big?n=67108864'), method: 'HEAD' });
      expect([head.status, head.headers['content-length'], head.body.length]).toEqual([200, '67108864', 0]);
    } finally {
      await p.close();
    }
  });

  it('answers the readiness probe with the status alone', async () => {
    const p = pool(up.url);
    try {
      await expect(p.probe('/missing', 1_000)).resolves.toBe(404);
    } finally {
      await p.close();
    }
  });
});
