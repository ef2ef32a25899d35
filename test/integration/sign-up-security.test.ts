import { Client, Connection } from '@temporalio/client';
import { createSignUpActivities } from '../../src/activities/sign-up';
import { AuthServiceClient } from '../../src/upstreams/auth-service';
import { HTTP_FAILURE } from '../../src/temporal/http-failure';
import { GatewayUserId } from '../../src/temporal/search-attributes';
import { AesGcmPayloadCodec } from '../../src/temporal/codec';
import { SecretBox } from '../../src/temporal/secrets';
import { createLogger } from '../../src/logger';
import { call, startAuthWorkerStack, type AuthWorkerStack, type Res } from '../support/auth-gateway';
import { testConfig, uniqueSuffix } from '../support/stack';
import { decodedHistoryText } from '../support/temporal-history';
import { signUpWorkflowIdOf as signUpWorkflowId } from '../support/workflow-ids';

jest.setTimeout(120_000);

/** Issue 12 (no account takeover through sign-up, no secrets in Temporal) and issue 13 (registered → 409). */
describe('sign-up: joining needs the same credentials, and Temporal never holds a readable secret', () => {
  const taskQueue = `test-sign-up-sec-${uniqueSuffix()}`;
  const overrides = {
    TEMPORAL_TASK_QUEUE: taskQueue,
    WORKFLOW_SYNC_TIMEOUT_MS: '2000',
    TEMPORAL_CODEC_KEYS: `su:${Buffer.alloc(32, 9).toString('base64')}`,
    INTERNAL_SERVICE_KEY: 'test-internal-key',
    TEMPORAL_SECRETS_KEYS: `sk:${Buffer.alloc(32, 5).toString('base64')}`,
  };
  const config = testConfig(overrides);
  let s: AuthWorkerStack;

  beforeAll(async () => {
    s = await startAuthWorkerStack(overrides, { workerOverrides: { AUTH_BREAKER_COOLDOWN_MS: '500' } });
  });

  afterAll(async () => {
    await s.close();
  });

  const signUp = (email: string, password: string, headers: Record<string, string> = {}) =>
    call(s.gw.url, 'POST', '/v1/client/sign-up', { body: { email, password }, headers });
  const expectRefused = (res: Res) => {
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('conflict');
    expect(JSON.stringify(res.body)).not.toMatch(/token/);
    expect(res.headers['set-cookie']).toBeUndefined();
  };
  const temporalClient = async () =>
    new Client({
      connection: await Connection.connect({ address: config.TEMPORAL_ADDRESS }),
      dataConverter: { payloadCodecs: [AesGcmPayloadCodec.fromConfig(config.TEMPORAL_CODEC_KEYS)] },
    });

  it('two concurrent sign-ups for one e-mail with different passwords: one 201, the other 409 without a token', async () => {
    const email = `race-${uniqueSuffix()}@example.com`;
    const first = signUp(email, 'owner-password-1');
    await new Promise((r) => setTimeout(r, 30));
    const [a, b] = await Promise.all([first, signUp(email, 'impostor-password-2')]);
    const [won, lost] = a.status === 201 ? [a, b] : [b, a];
    expect(won.status).toBe(201);
    expectRefused(lost);
    expect(lost.body.detail).toBe('This e-mail address is already registered');

    // Once completed, the impostor is still refused (the e-mail is registered).
    expectRefused(await signUp(email, 'impostor-password-2'));
  });

  it('during an auth-service outage: the impostor gets 409 at once and never the session once it recovers', async () => {
    const email = `outage-${uniqueSuffix()}@example.com`;
    const password = `owner-secret-${uniqueSuffix()}`;
    await s.fake.setDown(true, 'refuse');
    let first: Res;
    try {
      first = await signUp(email, password);
      expect(first.status).toBe(202);
      expectRefused(await signUp(email, 'impostor-password-3'));
      expectRefused(await signUp(email, 'impostor-password-3', { 'idempotency-key': `imp-${uniqueSuffix()}` }));
    } finally {
      await s.fake.setDown(false);
    }
    const client = await temporalClient();
    try {
      const handle = client.workflow.getHandle(signUpWorkflowId(email));
      const deadline = Date.now() + 60_000;
      while ((await handle.describe()).status.name === 'RUNNING' && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 500));
      const description = await handle.describe();
      expect(description.status.name).toBe('COMPLETED');
      // The run carries the new account's id for operators (and no e-mail anywhere in attributes).
      const user = [...s.fake.users.values()].find((u) => u.email === email)!;
      expect(description.typedSearchAttributes.get(GatewayUserId)).toBe(user.sub);
    } finally {
      await client.connection.close();
    }
    expectRefused(await signUp(email, 'impostor-password-3'));
    const op = await call(s.gw.url, 'GET', String(first.headers.location));
    expect(op.body).toMatchObject({ kind: 'sign-up', status: 'completed' });
    expect(op.body.result).toBeUndefined();

    const { text, decoded } = await decodedHistoryText(config, signUpWorkflowId(email));
    expect(decoded).toBeGreaterThan(3);
    expect(text).toContain(email);
    expect(text).not.toContain(password);
  });

  it('a sign-up that fails while the caller waits on its 202 shows 409 conflict on its operation', async () => {
    const email = `lost-${uniqueSuffix()}@example.com`;
    await s.fake.setDown(true, 'refuse');
    let first: Res;
    try {
      first = await signUp(email, 'first-password-1');
      expect(first.status).toBe(202);
    } finally {
      await s.fake.setDown(false);
    }
    // Someone registers the address directly at the auth service meanwhile, with another password.
    s.fake.createUser({ email, password: 'someone-else-1' });
    const deadline = Date.now() + 60_000;
    let op: Res;
    do {
      await new Promise((r) => setTimeout(r, 1000));
      op = await call(s.gw.url, 'GET', String(first.headers.location));
    } while (op.body.status === 'running' && Date.now() < deadline);
    expect(op.body).toMatchObject({
      kind: 'sign-up',
      status: 'failed',
      error: { code: 'conflict', detail: 'This e-mail address is already registered' },
    });
  });

  it('a completed sign-up decoded with the codec shows the e-mail and request id, never the password or a token', async () => {
    const email = `history-${uniqueSuffix()}@example.com`;
    const password = `history-secret-${uniqueSuffix()}`;
    const res = await signUp(email, password, { 'x-request-id': `req-${uniqueSuffix()}` });
    expect(res.status).toBe(201);
    const client = await temporalClient();
    try {
      await client.workflow
        .getHandle(signUpWorkflowId(email))
        .result()
        .catch(() => undefined);
    } finally {
      await client.connection.close();
    }
    const { text, decoded } = await decodedHistoryText(config, signUpWorkflowId(email));
    expect(decoded).toBeGreaterThan(3);
    expect(text).toContain(email);
    expect(text).toContain(String(res.headers['x-request-id']));
    for (const secret of [password, res.body.access_token, res.body.refresh_token]) expect(text).not.toContain(secret);
  });

  it('a registered e-mail is 409 even when the auth service answers its sign-up with tokens (same password)', async () => {
    s.fake.setSignUpOfRegistered('sign-in');
    try {
      const email = `registered-${uniqueSuffix()}@example.com`;
      const old = s.fake.createUser({
        email,
        password: 'registered-pass-1',
        created_at: new Date(Date.now() - 3600_000).toISOString(),
      });
      expectRefused(await signUp(email, 'registered-pass-1'));
      // The session the upstream opened for that sign-up is closed again.
      expect(s.fake.sessionsOf(old.sub)).toHaveLength(0);

      // Registered through the gateway a moment ago, then again with the same password.
      const fresh = `again-${uniqueSuffix()}@example.com`;
      expect((await signUp(fresh, 'again-pass-123')).status).toBe(201);
      expectRefused(await signUp(fresh, 'again-pass-123'));
    } finally {
      s.fake.setSignUpOfRegistered('reject');
    }
  });

  it('recovers "e-mail taken" on the first attempt when the account was created since the run started (worker crash)', async () => {
    const secrets = SecretBox.fromConfig(config.TEMPORAL_SECRETS_KEYS);
    const authService = new AuthServiceClient(
      testConfig({ ...overrides, AUTH_SERVICE_URL: s.fake.url }),
      createLogger('silent'),
    );
    try {
      const activities = createSignUpActivities({
        authService,
        db: s.worker.db,
        config: { ...config, AUTH_SERVICE_URL: s.fake.url },
      });
      const email = `crash-${uniqueSuffix()}@example.com`;
      const startedAt = new Date(Date.now() - 1000).toISOString();
      // The account this run created before the worker died (its answer never recorded).
      const mine = s.fake.createUser({ email, password: 'crash-pass-123' });
      const answer = await activities.signUpAccount({
        email,
        password: secrets.seal('crash-pass-123'),
        full_name: '',
        startedAt,
      });
      expect(answer.user.user_id).toBe(mine.sub);
      expect(typeof answer.tokens === 'string' && answer.tokens.startsWith('sealed:v1:sk:')).toBe(true);
      await expect(
        activities.signUpAccount({ email, password: secrets.seal('other-pass-123'), full_name: '', startedAt }),
      ).rejects.toMatchObject({
        type: HTTP_FAILURE,
        nonRetryable: true,
        details: [{ status: 409, code: 'conflict', detail: 'This e-mail address is already registered' }],
      });
    } finally {
      await authService.close();
    }
  });

  it('GET /v1/operations: no oracle for sign-ups, one 404 for unknown and foreign, and rate-limited', async () => {
    const email = `oracle-${uniqueSuffix()}@example.com`;
    expect((await signUp(email, 'oracle-pass-123')).status).toBe(201);
    const hashed = encodeURIComponent(signUpWorkflowId(email));
    expect((await call(s.gw.url, 'GET', `/v1/operations/${hashed}`)).status).toBe(401);
    const other = s.fake.createUser({ email: `other-${uniqueSuffix()}@example.com`, password: 'other-pass-123' });
    const token = (await s.fake.issueTokens(other.sub)).access_token;
    const foreign = await call(s.gw.url, 'GET', `/v1/operations/${hashed}`, { token });
    const unknown = await call(s.gw.url, 'GET', `/v1/operations/${encodeURIComponent('sign-up/0000')}`, { token });
    expect([foreign.status, unknown.status]).toEqual([404, 404]);
    expect(foreign.body.detail).toBe(unknown.body.detail);
    const forged = await call(
      s.gw.url,
      'GET',
      '/v1/operations/sign-up:sk:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    );
    expect(forged.status).toBe(401);

    const statuses: number[] = [];
    for (let i = 0; i < 35; i++) statuses.push((await call(s.gw.url, 'GET', '/v1/operations/nothing-here')).status);
    expect(statuses).toContain(429);
  });
});
