import { decodeJwt } from 'jose';
import { AesGcmPayloadCodec } from '../../src/temporal/codec';
import { billingSetupWorkflowId } from '../../src/workflows/billing-setup/contract';
import { call, startAuthWorkerStack, type AuthWorkerStack } from '../support/auth-gateway';
import { startBillingFake, type BillingFake } from '../support/billing-fake';
import { spawnWorker, stopProcess, testConfig, uniqueSuffix, waitFor } from '../support/stack';

jest.setTimeout(150_000);

/** Sign-up sets up billing in a workflow of its own: init, then the default plan, exactly once. */
describe('sign-up initialises billing', () => {
  const taskQueue = `test-sign-up-billing-${uniqueSuffix()}`;
  const codecKeys = `su:${Buffer.alloc(32, 9).toString('base64')}`;
  let billing: BillingFake;
  let s: AuthWorkerStack;

  const overrides = () => ({
    TEMPORAL_TASK_QUEUE: taskQueue,
    TEMPORAL_CODEC_KEYS: codecKeys,
    BILLING_SERVICE_URL: billing.url,
    BILLING_DEFAULT_PLAN: 'free',
  });
  const workerEnv = () => ({
    ...overrides(),
    AUTH_SERVICE_URL: s.fake.url,
    INTERNAL_SERVICE_KEY: 'test-internal-key',
    LOG_LEVEL: 'info',
    NODE_ENV: 'test',
  });

  beforeAll(async () => {
    billing = await startBillingFake();
    s = await startAuthWorkerStack(overrides());
  });
  afterAll(async () => {
    await s.close();
    await billing.close();
  });

  async function signUp() {
    const email = `billing-${uniqueSuffix()}@example.com`;
    const res = await call(s.gw.url, 'POST', '/v1/client/sign-up', {
      body: { email, password: 'billing-pass-1', full_name: 'Борис' },
    });
    expect(res.status).toBe(201);
    return { userId: res.body.user.user_id as string, token: res.body.access_token as string };
  }
  const setup = (userId: string) => s.gw.deps.temporal.client.workflow.getHandle(billingSetupWorkflowId(userId));

  it('with billing down, answers at once; billing gets the default plan once it is back', async () => {
    await billing.setDown(true);
    let user;
    try {
      user = await signUp();
      // The setup workflow keeps retrying /user/init while billing is away.
      await waitFor(
        'a retried /user/init',
        async () => ((await setup(user!.userId).describe()).raw.pendingActivities?.[0]?.attempt ?? 0) >= 2,
      );
    } finally {
      await billing.setDown(false);
    }
    expect(await setup(user.userId).result()).toEqual({ plan: 'free', applied: true });
    const account = billing.account(user.userId);
    expect(account?.planApplications).toEqual(['free']);
    expect(billing.store.status(user.userId)).toMatchObject({ is_initialized: true, active_plan_code: 'free' });

    // Billing saw the new user's id as `sub`, in a well-formed ASCII X-User-Data.
    const calls = billing.calls.filter((c) => c.userData?.sub === user.userId);
    expect(calls.map((c) => c.path)).toEqual([
      '/internal/billing/user/init',
      '/internal/billing/user/status',
      '/internal/billing/plan/apply',
    ]);
    for (const c of calls) {
      expect(c.userData!.ascii).toBe(true);
      expect(decodeJwt(c.userData!.jwt)).toMatchObject({
        sub: user.userId,
        iss: 'api-gateway',
        aud: 'billing-service',
      });
      expect(c.userData!.user_data).toMatchObject({ full_name: 'Борис', orgs: [] });
    }
    // The account page shows the real plan.
    const sub = await call(s.gw.url, 'GET', '/v1/billing/subscription', { token: user.token });
    expect(sub.status).toBe(200);
    expect(sub.body.plan_code).toBe('free');

    // The setup workflow's input holds the user, never a token.
    const history = await setup(user.userId).fetchHistory();
    const codec = AesGcmPayloadCodec.fromConfig(testConfig({ TEMPORAL_CODEC_KEYS: codecKeys }).TEMPORAL_CODEC_KEYS);
    const [input] = await codec.decode(history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads!);
    const decoded = Buffer.from(input!.data!).toString();
    expect(JSON.parse(decoded)).toEqual({ user_id: user.userId, email: expect.any(String), full_name: 'Борис' });
    expect(decoded).not.toContain(user.token.split('.')[2]);
  });

  it('sets up billing exactly once when the worker is killed after each step and the answers are lost', async () => {
    await s.worker.stop(); // from here on, real worker processes take the task queue
    const init = '/internal/billing/user/init';
    const apply = '/internal/billing/plan/apply';
    billing.setModes({ loseAnswersTo: [init, apply] });
    let child = await spawnWorker(workerEnv());
    try {
      const user = await signUp();
      // Each step is carried out by billing, its answer lost, and the worker killed before a retry.
      for (const path of [init, apply]) {
        await waitFor(path, async () => billing.callsTo(path).some((c) => c.userData?.sub === user.userId));
        await stopProcess(child, 'SIGKILL');
        child = await spawnWorker(workerEnv());
      }
      // The retry reads /user/status, finds the plan and stops: re-applying would remove it.
      expect(await setup(user.userId).result()).toEqual({ plan: 'free', applied: false });
      expect(billing.account(user.userId)?.planApplications).toEqual(['free']);
      expect(billing.callsTo(apply).filter((c) => c.userData?.sub === user.userId)).toHaveLength(1);
      expect(billing.store.status(user.userId)).toMatchObject({ has_active_plan: true, active_plan_code: 'free' });
    } finally {
      await stopProcess(child, 'SIGKILL');
    }
  });
});
