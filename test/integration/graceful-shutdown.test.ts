import { connect } from 'node:net';
import { request } from 'undici';
import { startGateway } from '../support/gateway';
import { testConfig } from '../support/stack';

/** A gateway with a deliberately slow route (a long upstream call): `release()` lets it answer. */
async function gatewayWithSlowRoute() {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let markStarted!: () => void;
  const started = new Promise<void>((r) => (markStarted = r));
  const gw = await startGateway(testConfig(), (app) => {
    app.get('/test/slow', async () => {
      markStarted();
      await gate;
      return { finished: true };
    });
  });
  return { gw, started, release };
}

describe('graceful shutdown', () => {
  it('lets an in-flight request finish while refusing new ones', async () => {
    const { gw, started, release } = await gatewayWithSlowRoute();
    const slow = request(`${gw.url}/test/slow`);
    await started;
    const closing = gw.close();
    // While draining, new connections are not served.
    await expect(request(`${gw.url}/health/live`, { headersTimeout: 2000 })).rejects.toThrow();
    release();
    const res = await slow;
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toEqual({ finished: true });
    // The kept-alive connection is told to close, so it cannot hold the shutdown open.
    expect(res.headers.connection).toBe('close');
    await closing;
    expect(gw.app.server.listening).toBe(false);
  });

  it('answers a request that arrives while closing with 503, the error format, Retry-After and Connection: close', async () => {
    const { gw, started, release } = await gatewayWithSlowRoute();
    const slow = request(`${gw.url}/test/slow`);
    await started;

    // A request under way before the close (its headers not finished yet), so its connection is
    // busy and stays open; it arrives in full once closing has begun.
    const { hostname, port } = new URL(gw.url);
    const socket = connect({ host: hostname, port: Number(port) });
    await new Promise((r) => socket.once('connect', r));
    socket.write('GET /test/slow HTTP/1.1\r\nHost: gateway\r\nX-Request-Id: closing-1\r\n');
    await new Promise((r) => setTimeout(r, 100));
    const closing = gw.close();
    await new Promise((r) => setTimeout(r, 100));
    let raw = '';
    socket.on('data', (d: Buffer) => (raw += d.toString()));
    const ended = new Promise((r) => socket.once('close', r));
    socket.write('\r\n');
    await ended;

    const [head, body] = raw.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 503 /);
    expect(head).toMatch(/\r\nretry-after: 1\r\n/i);
    expect(head).toMatch(/\r\nconnection: close\r\n/i);
    expect(head).toMatch(/\r\nx-request-id: closing-1\r\n/i);
    expect(JSON.parse(body!)).toEqual({
      detail: 'The gateway is shutting down',
      code: 'upstream_unavailable',
      request_id: 'closing-1',
    });

    release();
    expect((await slow).statusCode).toBe(200);
    await closing;
  });
});
