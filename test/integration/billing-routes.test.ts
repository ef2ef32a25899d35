import { startBillingFake, type BillingFake } from '../support/billing-fake';
import { call, startAuthStack, type AuthStack } from '../support/auth-gateway';
import { expectError } from '../support/gateway';
import { uniqueSuffix } from '../support/stack';

jest.setTimeout(60_000);

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Billing behind the gateway: the table route, the two adapters, identity and failures. */
describe('billing through the route table', () => {
  let billing: BillingFake;
  let s: AuthStack;

  beforeAll(async () => {
    billing = await startBillingFake();
    s = await startAuthStack({ BILLING_SERVICE_URL: billing.url });
  });
  afterEach(() => billing.reset());
  afterAll(async () => {
    await s.close();
    await billing.close();
  });

  /** A user with a Cyrillic name and an org, as the front end would see after sign-up. */
  async function user(plan?: string) {
    const u = s.fake.createUser({
      email: `bill-${uniqueSuffix()}@example.com`,
      password: 'billing-pass-1',
      full_name: 'Анна Щукина',
    });
    const org = s.fake.createOrg(u.sub, `Рога и копыта ${uniqueSuffix()}`);
    const { access_token: token } = await s.fake.issueTokens(u.sub);
    if (plan) {
      billing.store.init(u.sub);
      billing.store.applyPlan(u.sub, plan, `test-${u.sub}`);
    }
    return { sub: u.sub, token, org };
  }

  /** Every call billing received carried the gateway-built, ASCII-only X-User-Data of this caller. */
  function expectIdentity(sub: string, token: string, orgId: string) {
    const received = billing.calls.filter((c) => c.path.startsWith('/internal/billing/'));
    expect(received.length).toBeGreaterThan(0);
    for (const c of received) {
      expect(c.userData).toBeDefined();
      expect(c.userData!.ascii).toBe(true);
      expect(c.userData!.raw).toContain('\\u0410'); // "А", escaped
      expect(c.userData!.jwt).toBe(token);
      expect(c.userData!.sub).toBe(sub);
      expect(c.userData!.user_data).toEqual({
        email: expect.stringContaining('@example.com'),
        full_name: 'Анна Щукина',
        orgs: [{ org_id: orgId, name: expect.stringMatching(/^Рога и копыта/) as unknown, role: 'owner' }],
        active_org_id: expect.anything() as unknown,
      });
      expect(c.headers['x-internal-key']).toBe('test-internal-key');
      expect(c.headers.cookie).toBeUndefined();
      expect(c.headers.authorization).toBeUndefined();
    }
  }

  it('GET /v1/billing/subscription: the subscription with RFC 3339 timestamps, no upstream cookies or CORS', async () => {
    const u = await user('pro1500');
    const res = await call(s.gw.url, 'GET', '/v1/billing/subscription', {
      token: u.token,
      headers: { cookie: 'access_token=other; session=x' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      user_id: u.sub,
      plan_code: 'pro1500',
      plan: { plan_code: 'pro1500', price_rub: 49900 },
    });
    for (const field of ['started_at', 'expires_at', 'created_at', 'next_debit']) {
      expect(res.body[field]).toMatch(RFC3339);
      expect(Number.isNaN(Date.parse(res.body[field]))).toBe(false);
    }
    expect(res.body.plan.created_at).toMatch(RFC3339);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expectIdentity(u.sub, u.token, u.org.org_id);
  });

  it("X-User-Data is each caller's own, made once per /me answer, and follows a switch of org", async () => {
    const a = await user('pro1500');
    const b = await user('pro1500');
    for (const u of [a, b, a, b]) {
      const res = await call(s.gw.url, 'GET', '/v1/billing/subscription', { token: u.token });
      expect(res.status).toBe(200);
      const last = billing.calls.at(-1)!;
      expect([last.userData!.sub, last.userData!.jwt]).toEqual([u.sub, u.token]);
    }
    // A second org for a, then a switch to it: the next header carries it (the cached one is dropped).
    const second = s.fake.createOrg(a.sub, `Второй ${uniqueSuffix()}`);
    const switched = await call(s.gw.url, 'PATCH', '/v1/client/switch-org', {
      token: a.token,
      body: { org_id: second.org_id },
    });
    expect(switched.status).toBe(200);
    const res = await call(s.gw.url, 'GET', '/v1/billing/subscription', { token: a.token });
    expect(res.status).toBe(200);
    const after = billing.calls.at(-1)!.userData!;
    expect(after.user_data).toMatchObject({ active_org_id: second.org_id });
    expect((after.user_data as { orgs: unknown[] }).orgs).toHaveLength(2);
  });

  it('reads a billing answer that starts with a byte-order mark as it reads one without', async () => {
    const u = await user('pro1500');
    const plain = await call(s.gw.url, 'GET', '/v1/billing/subscription', { token: u.token });
    billing.setModes({ bom: true });
    // The table route's transform still applies (billing's offsets with a stray Z become RFC 3339).
    const marked = await call(s.gw.url, 'GET', '/v1/billing/subscription', { token: u.token });
    expect(marked.status).toBe(200);
    expect(marked.body).toEqual(plain.body);
    // An error answer keeps billing's detail.
    const none = await user();
    expectError(
      await call(s.gw.url, 'GET', '/v1/billing/subscription', { token: none.token }),
      404,
      'not_found',
      'Active subscription not found',
    );
  });

  it('GET /v1/billing/subscription without a subscription: 404 in the error format', async () => {
    const u = await user();
    const res = await call(s.gw.url, 'GET', '/v1/billing/subscription', { token: u.token });
    expectError(res, 404, 'not_found', 'Active subscription not found');
  });

  it('GET /api/user/balance and /api/user/subscription/next-billing answer the contract shapes', async () => {
    const u = await user('base750');
    const balance = await call(s.gw.url, 'GET', '/api/user/balance', { token: u.token });
    expect(balance.status).toBe(200);
    expect(balance.body).toEqual({ user_id: u.sub, balance_units: 750, updated_at: expect.stringMatching(RFC3339) });

    const next = await call(s.gw.url, 'GET', '/api/user/subscription/next-billing', { token: u.token });
    expect(next.status).toBe(200);
    expect(next.body).toEqual({ next_billing_date: expect.stringMatching(RFC3339), amount: 299, currency: 'RUB' });
    expect(next.body.next_billing_date).not.toMatch(/\+00:00Z$/);
    expectIdentity(u.sub, u.token, u.org.org_id);

    const none = await user();
    const missing = await call(s.gw.url, 'GET', '/api/user/subscription/next-billing', { token: none.token });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('not_found');
  });

  it('reads a varying billing answer liberally (nulls, extra fields, ids as strings)', async () => {
    const u = await user('pro1500');
    billing.setModes({ variance: true });
    const next = await call(s.gw.url, 'GET', '/api/user/subscription/next-billing', { token: u.token });
    expect(next.body).toEqual({ next_billing_date: expect.stringMatching(RFC3339), amount: 499, currency: 'RUB' });
    const sub = await call(s.gw.url, 'GET', '/v1/billing/subscription', { token: u.token });
    expect(sub.status).toBe(200);
    expect(sub.body.id).toEqual(expect.any(String));
  });

  it('never forwards a client-sent X-User-Data or X-Internal-Key', async () => {
    const u = await user('free');
    const forged = JSON.stringify({ jwt_token: 'e30.eyJzdWIiOiJ2aWN0aW0ifQ.x', user_data: {} });
    for (const path of ['/v1/billing/subscription', '/api/user/balance']) {
      const res = await call(s.gw.url, 'GET', path, {
        token: u.token,
        headers: { 'x-user-data': forged, 'x-internal-key': 'client-guess' },
      });
      expect(res.status).toBe(200);
    }
    expect(billing.calls.map((c) => c.userData?.sub)).toEqual([u.sub, u.sub]);
    expect(billing.calls.every((c) => c.headers['x-internal-key'] === 'test-internal-key')).toBe(true);
    expect(billing.account('victim')).toBeUndefined();
  });

  it('answers 401 before calling billing when the token is missing or invalid', async () => {
    for (const path of ['/v1/billing/subscription', '/api/user/balance', '/api/user/subscription/next-billing']) {
      const res = await call(s.gw.url, 'GET', path, { headers: { 'x-user-data': '{"jwt_token":"x"}' } });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('unauthorized');
    }
    expect(billing.calls).toHaveLength(0);
  });

  it('billing down: 503 in the error format, then the breaker opens and billing is not called', async () => {
    const u = await user('free');
    await billing.setDown(true);
    for (let i = 0; i < 5; i++) {
      const res = await call(s.gw.url, 'GET', '/api/user/balance', { token: u.token });
      expectError(res, 503, 'upstream_unavailable', 'billing is unavailable');
    }
    expect(s.gw.app.routeTable.upstream('billing')!.breaker.current).toBe('open');
    await billing.setDown(false);
    const open = await call(s.gw.url, 'GET', '/v1/billing/subscription', { token: u.token });
    expect(open.status).toBe(503);
    expect(open.body.code).toBe('upstream_unavailable');
    expect(Number(open.headers['retry-after'])).toBeGreaterThan(0);
    expect(billing.calls).toHaveLength(0);
  });

  it('a silent billing answers 504 after the route timeout', async () => {
    const u = await user('free');
    s.gw.app.routeTable.upstream('billing')!.breaker.success();
    billing.setModes({ silent: true });
    const res = await call(s.gw.url, 'GET', '/api/user/balance', { token: u.token });
    expect(res.status).toBe(504);
    expect(res.body.code).toBe('upstream_timeout');
  });

  it('reports billing in /health/ready for information only', async () => {
    const up = await call(s.gw.url, 'GET', '/health/ready');
    expect(up.status).toBe(200);
    expect(up.body.checks.billing).toMatchObject({ status: 'up' });
    await billing.setDown(true);
    const down = await call(s.gw.url, 'GET', '/health/ready');
    expect(down.status).toBe(200); // a shared upstream's outage does not take the replica out
    expect(down.body.checks.billing).toMatchObject({ status: 'down' });
  });

  it('lists the table routes in /docs with their auth', async () => {
    const res = await call(s.gw.url, 'GET', '/docs/json');
    const op = res.body.paths['/v1/billing/subscription'].get;
    expect(op.security).toEqual([{ bearer: [] }]);
    expect(op.description).toContain('auth: user');
    expect(res.body.paths['/api/user/balance'].get.security).toEqual([{ bearer: [] }]);
  });
});
