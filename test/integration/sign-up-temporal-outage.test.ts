import { signUpWorkflowIdOf as signUpWorkflowId } from '../support/workflow-ids';
import { Database } from '../../src/db/database';
import { createLogger } from '../../src/logger';
import { createWorker, type GatewayWorker } from '../../src/workers/worker';
import { call, startAuthStack, type AuthStack, type Res } from '../support/auth-gateway';
import { stackService, testConfig, uniqueSuffix, waitFor } from '../support/stack';

jest.setTimeout(240_000);

/**
 * Sign-up while the Temporal dev server is away (issue 18): the answer is 201, 202 with a run
 * that completes, or 503 + Retry-After; a 503 whose start went through after all is not a
 * half-done sign-up, because the client's retry under the same Idempotency-Key gets the account.
 */
describe('sign-up and a Temporal outage', () => {
  const taskQueue = `test-sign-up-temporal-${uniqueSuffix()}`;
  const overrides = { TEMPORAL_TASK_QUEUE: taskQueue, WORKFLOW_SYNC_TIMEOUT_MS: '3000' };
  let s: AuthStack;
  let db: Database;
  let worker: GatewayWorker;
  let running: Promise<void>;

  beforeAll(async () => {
    s = await startAuthStack({ ...overrides, INTERNAL_SERVICE_KEY: 'test-internal-key' });
    worker = await createWorker(
      testConfig({ ...overrides, AUTH_SERVICE_URL: s.fake.url, INTERNAL_SERVICE_KEY: 'test-internal-key' }),
      createLogger('silent'),
      { taskQueue },
    );
    running = worker.worker.run();
    db = new Database(testConfig());
  });

  afterAll(async () => {
    await stackService('start', 'temporal');
    await new Promise((r) => setTimeout(r, 8_000));
    worker.worker.shutdown();
    await running;
    await worker.close();
    await s.close();
    await db.close();
  });

  const signUp = (email: string, password: string, key?: string) =>
    call(s.gw.url, 'POST', '/v1/client/sign-up', {
      body: { email, password },
      headers: key ? { 'idempotency-key': key } : {},
    });
  const accounts = (email: string) => [...s.fake.users.values()].filter((u) => u.email === email);
  const finished = (email: string) =>
    waitFor(
      'the sign-up run to finish',
      async () => {
        const run = await s.gw.deps.temporal.client.workflow.getHandle(signUpWorkflowId(email)).describe();
        return run.status.name !== 'RUNNING';
      },
      60_000,
      500,
    );

  it('a retry under the same key whose first answer was lost gets the account; without the key, or with another, 409', async () => {
    const email = `lost-${uniqueSuffix()}@example.com`;
    const key = `lost-${uniqueSuffix()}`;
    const first = await signUp(email, 'lost-pass-123', key);
    expect(first.status).toBe(201);
    await finished(email);
    // As if the first answer had been a 503: a 5xx is not stored under its key.
    await db.execute('delete from idempotency_keys where key = $1', [key]);

    const retry = await signUp(email, 'lost-pass-123', key);
    expect(retry.status).toBe(201);
    expect(retry.body.user).toMatchObject({ user_id: first.body.user.user_id, email });
    expect(retry.body.access_token).toEqual(expect.any(String));
    expect((await signUp(email, 'lost-pass-123')).status).toBe(409);
    expect((await signUp(email, 'lost-pass-123', `other-${uniqueSuffix()}`)).status).toBe(409);
    expect((await signUp(email, 'other-pass-123', `x-${uniqueSuffix()}`)).status).toBe(409);
    expect(accounts(email)).toHaveLength(1);
  });

  it('sent while Temporal is stopped and it comes back: 201, 202 or 503 + Retry-After; the retry completes; one account', async () => {
    const email = `outage-${uniqueSuffix()}@example.com`;
    const key = `outage-${uniqueSuffix()}`;
    await stackService('stop', 'temporal');
    let first: Res;
    try {
      const sent = signUp(email, 'outage-pass-1', key);
      // Back while the gateway still waits: the start may go through after all.
      await new Promise((r) => setTimeout(r, 1_000));
      await stackService('start', 'temporal');
      first = await sent;
    } finally {
      await stackService('start', 'temporal');
    }
    expect([201, 202, 503]).toContain(first.status);
    if (first.status === 503) expect(Number(first.headers['retry-after'])).toBeGreaterThan(0);

    // The client retries as Retry-After says until it has an answer that is not a 503.
    let retry = first;
    for (let i = 0; i < 10 && retry.status === 503; i += 1) {
      await new Promise((r) => setTimeout(r, Number(retry.headers['retry-after']) * 1000));
      retry = await signUp(email, 'outage-pass-1', key);
      if (retry.status === 503) expect(Number(retry.headers['retry-after'])).toBeGreaterThan(0);
    }
    expect([201, 202]).toContain(retry.status);
    await finished(email);
    if (retry.status === 202) {
      const op = await call(s.gw.url, 'GET', String(retry.headers.location));
      expect(op.body).toMatchObject({ status: 'completed' });
    }
    // After the run, the same retry still gets the account's answer, never "registered".
    expect([201, 202]).toContain((await signUp(email, 'outage-pass-1', key)).status);
    expect(accounts(email)).toHaveLength(1);
  });
});
