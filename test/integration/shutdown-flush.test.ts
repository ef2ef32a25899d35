import { Database } from '../../src/db/database';
import { call, spawnGateway } from '../support/gateway';
import { startAuthFake, type AuthFake } from '../support/auth-fake';
import {
  ChatServiceFake,
  chatTopicOverrides,
  createChatTopics,
  deleteChatTopics,
  startChatFake,
} from '../support/chat-fake';
import { startWorker, testConfig, uniqueSuffix, waitFor, type RunningWorker } from '../support/stack';

jest.setTimeout(120_000);

const GRACE_MS = 10_000;

describe('SIGTERM with slow requests in flight (issue 17, item 13)', () => {
  const topics = { ...chatTopicOverrides('shutdown'), TEMPORAL_TASK_QUEUE: `test-shutdown-${uniqueSuffix()}` };
  let auth: AuthFake;
  let chat: ChatServiceFake;
  let db: Database;
  let worker: RunningWorker;

  beforeAll(async () => {
    auth = await startAuthFake({ port: 0 });
    await createChatTopics(testConfig(topics));
    // The chat service answers after 25 s: longer than the grace.
    chat = await startChatFake(testConfig(topics), { delayMs: 25_000 });
    db = new Database(testConfig());
    worker = await startWorker(testConfig({ ...topics, AUTH_SERVICE_URL: auth.url }));
  });

  afterAll(async () => {
    await worker.stop();
    await chat.stop();
    await deleteChatTopics(testConfig(topics));
    await auth.close();
    await db.close();
  });

  it('the chat wait answers 503 at once, the sign-up wait 202, a slow sign-in finishes with its event committed, the process exits in the grace', async () => {
    const { child, url } = await spawnGateway({
      ...topics,
      AUTH_SERVICE_URL: auth.url,
      AUTH_JWKS_URL: auth.jwksUrl,
      AUTH_ISSUER: auth.issuer,
      COOKIE_SECURE: 'false',
      CHAT_REQUEST_TIMEOUT_MS: '30000',
      WORKFLOW_SYNC_TIMEOUT_MS: '30000',
      SHUTDOWN_GRACE_MS: String(GRACE_MS),
      LOG_LEVEL: 'info',
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const user = auth.createUser({ email: 'shutdown@example.com', password: 'shutdown-pass-1' });
      const { access_token: token } = await auth.issueTokens(user.sub);
      const chatCall = call(url, 'GET', '/api/chat/conversations/', { token });
      await waitFor(
        'the chat request at the chat service',
        async () => chat.requests('chat_get_conversations').length > 0,
      );
      auth.setDelay(1_500, { path: /^\/v1\/client\/sign-(in\/password|up)$/ });
      const signUp = call(url, 'POST', '/v1/client/sign-up', {
        body: { email: `shutdown-new-${uniqueSuffix()}@example.com`, password: 'shutdown-pass-2' },
      });
      const signIn = call(url, 'POST', '/v1/client/sign-in/password', {
        body: { email: 'shutdown@example.com', password: 'shutdown-pass-1' },
      });
      await waitFor(
        'the sign-up and the sign-in at the auth service',
        async () => auth.callsTo({ path: /^\/v1\/client\/sign-(in\/password|up)$/ }).length === 2,
      );

      const sigterm = Date.now();
      child.kill('SIGTERM');
      const chatRes = await chatCall;
      const chatAnsweredMs = Date.now() - sigterm;
      expect(chatRes.status).toBe(503);
      expect(chatRes.body).toMatchObject({ code: 'upstream_unavailable', request_id: expect.any(String) });
      // Promptly: not after the 25 s reply, nor the 30 s deadline, nor the grace.
      expect(chatAnsweredMs).toBeLessThan(3_000);

      // The sign-up run was started: its wait ends with 202, not at the 30 s wait.
      const signUpRes = await signUp;
      expect(signUpRes.status).toBe(202);
      expect(signUpRes.headers.location).toEqual(expect.stringContaining('/v1/operations/'));

      const signInRes = await signIn;
      expect(signInRes.status).toBe(200);
      expect(await exited).toBe(0);
      expect(Date.now() - sigterm).toBeLessThan(GRACE_MS);

      const rows = await db.execute(
        `select 1 from outbox_events where event_type = 'user_logged_in' and message_key = $1`,
        [user.sub],
      );
      expect(rows).toHaveLength(1);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
