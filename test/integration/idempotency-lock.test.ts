import { randomUUID } from 'node:crypto';
import { startGateway, type RunningGateway } from '../support/gateway';
import { testConfig } from '../support/stack';

jest.setTimeout(60_000);

describe('an Idempotency-Key claim outlives its lock while the request runs (issue 17, item 14)', () => {
  let gateway: RunningGateway;
  let calls = 0;
  let release!: () => void;
  let entered!: Promise<void>;

  beforeAll(async () => {
    let enter!: () => void;
    entered = new Promise<void>((resolve) => (enter = resolve));
    const gate = new Promise<void>((resolve) => (release = resolve));
    gateway = await startGateway(testConfig({ IDEMPOTENCY_LOCK_MS: '1500', OUTBOX_RELAY_ENABLED: 'false' }), (app) => {
      app.post('/test/slow-title', { config: { idempotent: true } }, async (_request, reply) => {
        calls++;
        if (calls === 1) {
          enter();
          await gate;
        }
        return reply.code(201).send({ call: calls });
      });
    });
  });

  afterAll(async () => {
    await gateway.close();
  });

  const post = async (key: string) => {
    const res = await fetch(`${gateway.url}/test/slow-title`, {
      method: 'POST',
      headers: { 'idempotency-key': key, 'content-type': 'application/json' },
      body: '{}',
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('a retry after the lock time, while the first request still runs, gets 409 and never runs the handler twice', async () => {
    const key = randomUUID();
    const first = post(key);
    await entered;
    // Twice the lock time: without renewal the retry would take the claim over.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const retry = await post(key);
    expect(retry.status).toBe(409);
    expect(retry.body.code).toBe('conflict');
    release();
    expect(await first).toEqual({ status: 201, body: { call: 1 } });
    expect(await post(key)).toEqual({ status: 201, body: { call: 1 } });
    expect(calls).toBe(1);
  });
});
