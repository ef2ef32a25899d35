import { spawnAuthFake } from '../support/auth-fake-process';
import { call, startGateway, type RunningGateway } from '../support/gateway';
import { testConfig, waitFor } from '../support/stack';

jest.setTimeout(90_000);

interface Answer {
  started: number;
  ms: number;
  status: number;
  retryAfter?: string;
  body: unknown;
  requestId?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The auth service frozen (SIGSTOP: connections accepted, nothing answered) under 6 concurrent
 * clients (issue 18; at least AUTH_BREAKER_THRESHOLD, 5, must be waiting): the breaker opens once
 * calls stall, well before the call deadline (8 s), ends the reads waiting on it with 503, and
 * from then on every request answers 503 + Retry-After within 100 ms; after SIGCONT the gateway
 * serves again by itself.
 */
describe('auth service frozen', () => {
  let auth: Awaited<ReturnType<typeof spawnAuthFake>>;
  let gw: RunningGateway;
  let token: string;

  beforeAll(async () => {
    auth = await spawnAuthFake();
    gw = await startGateway(
      testConfig({ ...auth.settings, AUTH_SERVICE_TIMEOUT_MS: '8000', AUTH_BREAKER_COOLDOWN_MS: '5000' }),
    );
    ({ token } = await auth.signUp());
  });

  afterAll(async () => {
    await gw?.close();
    await auth?.stop();
  });

  async function me(): Promise<Answer> {
    const started = Date.now();
    const res = await call(gw.url, 'GET', '/v1/client/me', { token });
    return {
      started,
      ms: Date.now() - started,
      status: res.status,
      retryAfter: res.headers['retry-after'] as string | undefined,
      body: res.body,
      requestId: res.headers['x-request-id'] as string | undefined,
    };
  }

  it('opens the breaker before the call deadline, then answers 503 + Retry-After within 100 ms, and recovers', async () => {
    expect((await me()).status).toBe(200);
    const answers: Answer[] = [];
    let opened: number | undefined;
    auth.freeze();
    try {
      const frozenAt = Date.now();
      const clients = Array.from({ length: 6 }, async () => {
        // Until 2 s after the first 503 (the cooldown is 5 s: no trial call in that window).
        while (Date.now() - frozenAt < 7_000 && (opened === undefined || Date.now() < opened + 2_000)) {
          const a = await me();
          answers.push(a);
          if (a.status === 503) opened ??= a.started + a.ms;
          await sleep(50);
        }
      });
      await Promise.all(clients);
    } finally {
      auth.thaw();
    }

    expect(opened).toBeDefined();
    // The calls waiting when it opened were reads that did nothing: 503 too, not 504.
    expect(answers.filter((a) => a.status !== 503)).toEqual([]);
    const afterOpen = answers.filter((a) => a.started >= opened!);
    expect(afterOpen.length).toBeGreaterThanOrEqual(20);
    for (const a of afterOpen) {
      expect({ status: a.status, retryAfter: Number(a.retryAfter) > 0 }).toEqual({ status: 503, retryAfter: true });
      expect(a.ms).toBeLessThanOrEqual(100);
      expect(a.body).toEqual({ detail: expect.any(String), code: 'upstream_unavailable', request_id: a.requestId });
    }

    // The breaker's trial call after its cooldown finds the service answering again.
    await waitFor('GET /v1/client/me answers 200 again', async () => (await me()).status === 200, 15_000, 250);
  });
});
