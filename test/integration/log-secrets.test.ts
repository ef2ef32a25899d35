import { startAuthFake } from '../support/auth-fake';
import { call, startAuthWorkerStack, type AuthWorkerStack } from '../support/auth-gateway';
import { captureLog } from '../support/log-capture';
import { uniqueSuffix } from '../support/stack';

jest.setTimeout(120_000);

/**
 * The gateway and the worker at `trace` level through sign-up, sign-in, refresh, logout, internal
 * calls, query-string tokens and upstream failures: their logs must contain no password, no access
 * or refresh token and no internal key.
 */
describe('no secret reaches a log line', () => {
  const gatewayLog = captureLog();
  const workerLog = captureLog();
  const taskQueue = `test-log-secrets-${uniqueSuffix()}`;
  const internalKey = `internal-key-${uniqueSuffix()}`;
  let s: AuthWorkerStack;

  beforeAll(async () => {
    const overrides = { LOG_LEVEL: 'trace', TEMPORAL_TASK_QUEUE: taskQueue, INTERNAL_SERVICE_KEY: internalKey };
    // The fake accepts the same internal key (the worker looks new accounts up with it).
    const fake = await startAuthFake({ port: 0, internalKey });
    s = await startAuthWorkerStack(overrides, { fake, log: gatewayLog.stream, workerLog: workerLog.stream });
  });

  afterAll(async () => {
    await s.close();
    await s.fake.close();
  });

  it('logs requests and failures, but never passwords, tokens or the internal key', async () => {
    const secrets: string[] = [internalKey];
    const email = `logs-${uniqueSuffix()}@example.com`;
    const password = `pw-${uniqueSuffix()}-secret`;
    secrets.push(password);

    const signUp = await call(s.gw.url, 'POST', '/v1/client/sign-up', {
      body: { email, password, full_name: 'Log Tester' },
    });
    expect(signUp.status).toBe(201);
    secrets.push(signUp.body.access_token, signUp.body.refresh_token);

    const signIn = await call(s.gw.url, 'POST', '/v1/client/sign-in/password', { body: { email, password } });
    expect(signIn.status).toBe(200);
    secrets.push(signIn.body.access_token, signIn.body.refresh_token);

    const wrongPassword = `wrong-${uniqueSuffix()}-secret`;
    secrets.push(wrongPassword);
    expect(
      (await call(s.gw.url, 'POST', '/v1/client/sign-in/password', { body: { email, password: wrongPassword } }))
        .status,
    ).toBe(401);

    const token = signIn.body.access_token as string;
    expect((await call(s.gw.url, 'GET', '/v1/client/me', { token })).status).toBe(200);
    expect(
      (await call(s.gw.url, 'GET', '/v1/client/me', { headers: { cookie: `access_token=${token}` } })).status,
    ).toBe(200);
    expect(
      (await call(s.gw.url, 'GET', `/auth/validate?token=${token}`, { headers: { 'x-internal-key': internalKey } }))
        .status,
    ).toBe(200);
    // The query parser decodes parameter names, so `%74oken` is `token` too.
    const encoded = await call(s.gw.url, 'GET', `/auth/validate?%74oken=${token}`, {
      headers: { 'x-internal-key': internalKey },
    });
    expect(encoded.body.valid).toBe(true);
    expect(
      (await call(s.gw.url, 'GET', '/auth/validate', { headers: { 'x-internal-key': `${internalKey}-wrong` } })).status,
    ).toBe(401);

    s.fake.failNext(3, 500, { match: { path: '/v1/client/me' } });
    expect((await call(s.gw.url, 'GET', '/v1/client/me', { token })).status).toBe(502);

    const refreshed = await call(s.gw.url, 'POST', '/v1/client/refresh_token', {
      body: { refresh_token: signIn.body.refresh_token },
    });
    expect(refreshed.status).toBe(200);
    secrets.push(refreshed.body.access_token, refreshed.body.refresh_token);
    expect(
      (
        await call(s.gw.url, 'POST', '/v1/client/logout', {
          token,
          body: { refresh_token: refreshed.body.refresh_token },
        })
      ).status,
    ).toBe(204);

    const change = `new-${uniqueSuffix()}-secret`;
    secrets.push(change);
    const other = await call(s.gw.url, 'POST', '/v1/client/sign-in/password', { body: { email, password } });
    secrets.push(other.body.access_token, other.body.refresh_token);
    expect(
      (
        await call(s.gw.url, 'POST', '/v1/client/change-password', {
          token: other.body.access_token,
          body: { old_password: password, new_password: change },
        })
      ).status,
    ).toBe(200);

    const logs = gatewayLog.text() + workerLog.text();
    // The capture is real: it holds the access lines of these requests.
    expect(gatewayLog.text()).toContain('request completed');
    expect(gatewayLog.text()).toContain('/auth/validate?token=[REDACTED]');
    expect(gatewayLog.text()).toContain('/auth/validate?%74oken=[REDACTED]');
    for (const secret of secrets) expect(logs).not.toContain(secret);
  });
});
