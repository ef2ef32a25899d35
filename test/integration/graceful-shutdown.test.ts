import { request } from 'undici';
import { startGateway } from '../support/gateway';
import { testConfig } from '../support/stack';

describe('graceful shutdown', () => {
  it('lets an in-flight request finish while refusing new ones', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let markStarted!: () => void;
    const started = new Promise<void>((r) => (markStarted = r));

    // A deliberately slow route stands in for a long upstream call.
    const gw = await startGateway(testConfig(), (app) => {
      app.get('/test/slow', async () => {
        markStarted();
        await gate;
        return { finished: true };
      });
    });

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
});
