import { Database } from '../../src/db/database';
import { call, startAuthStack, type AuthStack } from '../support/auth-gateway';
import { stackService, testConfig, uniqueSuffix } from '../support/stack';

jest.setTimeout(240_000);

describe('workflow routes while Temporal is down (issue 17, item 11; issue 18)', () => {
  let s: AuthStack;
  let db: Database;

  beforeAll(async () => {
    s = await startAuthStack({
      TEMPORAL_TASK_QUEUE: `test-uws-down-${uniqueSuffix()}`,
      WORKFLOW_SYNC_TIMEOUT_MS: '2000',
    });
    db = new Database(testConfig());
  });

  afterAll(async () => {
    await stackService('start', 'temporal');
    // The refused call may still be in the SDK's retries: close() waits for it before closing the
    // connection (temporalCallsSettled), so no retry timer fires on a closed channel.
    await s.close();
    await db.close();
  });

  it('sign-up answers 503 upstream_unavailable (never 202) within the wait plus the start check, storing nothing under its Idempotency-Key', async () => {
    await stackService('stop', 'temporal');
    const key = `uws-down-${uniqueSuffix()}`;
    const t0 = Date.now();
    const res = await call(s.gw.url, 'POST', '/v1/client/sign-up', {
      headers: { 'idempotency-key': key },
      body: { email: `uws-down-${uniqueSuffix()}@example.com`, password: 'down-pass-123' },
    });
    const elapsed = Date.now() - t0;
    expect(res.status).toBe(503);
    expect(res.headers['x-request-id']).toBe(res.body.request_id);
    expect(res.body).toMatchObject({ code: 'upstream_unavailable', request_id: expect.any(String) });
    const rows = await db.execute('select 1 from idempotency_keys where key = $1', [key]);
    expect(rows).toHaveLength(0);
    // Bounded: the 2 s wait plus the start check, not the SDK's ~20 s of retries (before: 22 s).
    expect(elapsed).toBeLessThan(2_000 + 5_000);
  });

  it('an operation route (delete_all) answers 503 + Retry-After within the start bound, not after the SDK retries', async () => {
    await stackService('stop', 'temporal');
    const alice = await s.user('uws-down-op');
    const t0 = Date.now();
    const res = await call(s.gw.url, 'DELETE', '/api/chat/prompts/delete_all/', { token: alice.token });
    const elapsed = Date.now() - t0;
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ code: 'upstream_unavailable', request_id: expect.any(String) });
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    // The 5 s start bound, not the SDK's ~20 s of retries (the chaos run saw no answer in 20 s).
    expect(elapsed).toBeLessThan(5_000 + 4_000);
  });
});
