import { HttpError } from '../../src/errors';
import { call, type Res } from '../support/auth-gateway';
import { startChatStack, type ChatStack } from '../support/chat-fake';
import { startGateway, type RunningGateway } from '../support/gateway';
import { stackService, testConfig, uniqueSuffix, waitFor } from '../support/stack';

jest.setTimeout(300_000);

/** A 503 in the error format with a Retry-After of whole seconds (gateway-http.md, Errors). */
function expectRetryAfter(res: Res) {
  expect(res.status).toBe(503);
  expect(res.body).toMatchObject({ code: expect.any(String), request_id: res.headers['x-request-id'] });
  expect(String(res.headers['retry-after'])).toMatch(/^[1-9]\d*$/);
}

/**
 * Every 503 carries Retry-After (issue 18: the chaos run counts "503 without Retry-After"): the
 * main outage paths, one dependency at a time, and any 503 whose path set none.
 */
describe('every 503 the gateway answers carries Retry-After', () => {
  let stack: ChatStack;
  let bare: RunningGateway;
  let token: string;

  beforeAll(async () => {
    stack = await startChatStack({
      TEMPORAL_TASK_QUEUE: `test-retry-after-${uniqueSuffix()}`,
      WORKFLOW_SYNC_TIMEOUT_MS: '2000',
    });
    ({ token } = await stack.signUp('Retry After'));
    bare = await startGateway(testConfig({ OUTBOX_RELAY_ENABLED: 'false' }), (app) => {
      app.get('/test/unavailable', async () => {
        throw new HttpError('upstream_unavailable', 'Something is away');
      });
    });
  });

  afterAll(async () => {
    await stackService('start', 'kafka');
    await stackService('start', 'postgres');
    await stackService('start', 'temporal');
    // The SDK may still hold a retry timer of the refused start; let it fire on an open connection.
    await new Promise((r) => setTimeout(r, 8_000));
    await bare?.close();
    await stack?.close();
  });

  it('a 503 whose path set no Retry-After gets the default', async () => {
    const res = await call(bare.url, 'GET', '/test/unavailable');
    expectRetryAfter(res);
    expect(res.headers['retry-after']).toBe('5');
  });

  it('chat while Kafka is stopped', async () => {
    await stackService('stop', 'kafka');
    try {
      const refused = await waitFor('a chat 503', async () => {
        const res = await call(stack.gw.url, 'GET', '/api/chat/conversations/', { token });
        return res.status === 503 ? res : undefined;
      });
      expectRetryAfter(refused);
    } finally {
      await stackService('start', 'kafka');
    }
  });

  it('logout while PostgreSQL is stopped', async () => {
    const user = stack.auth.createUser({ email: `ra-${uniqueSuffix()}@example.com`, password: 'retry-pass-1' });
    const { access_token: fresh } = await stack.auth.issueTokens(user.sub);
    await stackService('stop', 'postgres');
    try {
      expectRetryAfter(await call(stack.gw.url, 'POST', '/v1/client/logout', { token: fresh, body: {} }));
    } finally {
      await stackService('start', 'postgres');
    }
  });

  it('sign-up while Temporal is stopped', async () => {
    await stackService('stop', 'temporal');
    try {
      const res = await call(stack.gw.url, 'POST', '/v1/client/sign-up', {
        body: { email: `ra-${uniqueSuffix()}@example.com`, password: 'retry-pass-1' },
      });
      expectRetryAfter(res);
    } finally {
      await stackService('start', 'temporal');
    }
  });

  it('an auth-service call while its breaker is open, and the failures that opened it', async () => {
    await stack.auth.setDown(true, 'refuse');
    try {
      const answers: Res[] = [];
      for (let i = 0; i < 8; i += 1) answers.push(await call(stack.gw.url, 'GET', '/v1/client/me', { token }));
      expect(answers.some((a) => a.status === 503)).toBe(true);
      for (const a of answers) expectRetryAfter(a);
    } finally {
      await stack.auth.setDown(false);
    }
  });
});
