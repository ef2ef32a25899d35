import { startBillingFake, type BillingFake } from '../support/billing-fake';
import { call, startAuthStack, type AuthStack } from '../support/auth-gateway';
import { expectError, metricValue } from '../support/gateway';
import { captureLog } from '../support/log-capture';

jest.setTimeout(60_000);

/**
 * An upstream that answers far more than its contract's shapes: the gateway reads at most
 * AUTH_SERVICE_MAX_ANSWER_BYTES from the auth service and an upstream's `max_answer_bytes` (8 MiB by
 * default) through the route table, answers 502 in the error format past that, and serves on.
 */
describe('upstream answers past the gateway’s limit', () => {
  let billing: BillingFake;
  let s: AuthStack;
  const log = captureLog();

  beforeAll(async () => {
    billing = await startBillingFake();
    s = await startAuthStack(
      { BILLING_SERVICE_URL: billing.url, AUTH_SERVICE_MAX_ANSWER_BYTES: '65536', LOG_LEVEL: 'warn' },
      undefined,
      log.stream,
    );
  });
  afterEach(() => billing.reset());
  afterAll(async () => {
    await s?.close();
    await billing?.close();
  });

  const tooLargeLines = () =>
    log
      .text()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === 'upstream answer too large');

  /** gateway_upstream_answers_too_large_total of one upstream (0 before the first). */
  const tooLargeCount = (upstream: string) =>
    metricValue(s.gw.adminUrl, `gateway_upstream_answers_too_large_total{upstream="${upstream}"}`);

  it('GET /v1/client/me: an auth-service answer past the limit is a 502, not retried; the next call is served', async () => {
    const u = await s.user('big-me');
    const counted = await tooLargeCount('auth-service');
    s.fake.clearCalls();
    s.fake.failNext(1, 200, {
      match: { path: '/v1/client/me' },
      body: { sub: u.sub, email: u.email, padding: 'p'.repeat(100_000) },
    });
    const res = await call(s.gw.url, 'GET', '/v1/client/me', { token: u.token });
    expectError(res, 502, 'upstream_error', 'Auth service answered more than the gateway accepts');
    // Not retried: the same upstream would answer the same bytes again.
    expect(s.fake.calls.filter((c) => c.path === '/v1/client/me')).toHaveLength(1);
    expect(tooLargeLines()).toContainEqual(
      expect.objectContaining({ upstream: 'auth-service', method: 'GET', path: '/v1/client/me', limit: 65_536 }),
    );
    // The log names the upstream and the limit, never the answer; operators see it counted.
    expect(log.text()).not.toContain('ppppp');
    expect(await tooLargeCount('auth-service')).toBe(counted + 1);
    const next = await call(s.gw.url, 'GET', '/v1/client/me', { token: u.token });
    expect(next.status).toBe(200);
    expect(next.body).toMatchObject({ sub: u.sub, email: u.email });
  });

  it('GET /v1/billing/subscription: a billing answer past the route table’s 8 MiB default is a 502, then served again', async () => {
    const u = await s.user('big-bill');
    s.fake.createOrg(u.sub, 'Answer limits');
    billing.store.init(u.sub);
    billing.store.applyPlan(u.sub, 'free', `test-${u.sub}`);
    const counted = await tooLargeCount('billing');
    billing.setModes({ padding: 9 * 1024 * 1024 });
    const res = await call(s.gw.url, 'GET', '/v1/billing/subscription', { token: u.token });
    expectError(res, 502, 'upstream_error', 'billing answered more than the gateway accepts');
    expect(billing.callsTo('/internal/billing/subscription', 'GET')).toHaveLength(1);
    expect(await tooLargeCount('billing')).toBe(counted + 1);
    expect(tooLargeLines()).toContainEqual(
      expect.objectContaining({ upstream: 'billing', path: '/internal/billing/subscription', limit: 8 * 1024 * 1024 }),
    );
    // Under the limit (1 MiB of padding) the same answer passes; without padding it is the contract's shape.
    billing.setModes({ padding: 1024 * 1024 });
    expect((await call(s.gw.url, 'GET', '/v1/billing/subscription', { token: u.token })).status).toBe(200);
    billing.setModes({});
    const ok = await call(s.gw.url, 'GET', '/v1/billing/subscription', { token: u.token });
    expect(ok.status).toBe(200);
    expect(ok.body).not.toHaveProperty('padding');
  });
});
