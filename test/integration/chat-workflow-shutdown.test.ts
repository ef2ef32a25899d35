import { Client, Connection } from '@temporalio/client';
import { createLogger } from '../../src/logger';
import { AesGcmPayloadCodec } from '../../src/temporal/codec';
import { createWorker, type GatewayWorker } from '../../src/workers/worker';
import { call } from '../support/auth-gateway';
import { startAuthFake, type AuthFake } from '../support/auth-fake';
import {
  chatTopicOverrides,
  createChatTopics,
  deleteChatTopics,
  startChatFake,
  type ChatServiceFake,
} from '../support/chat-fake';
import { authFakeEnv, spawnGateway } from '../support/gateway';
import { testConfig, uniqueSuffix, waitFor } from '../support/stack';

jest.setTimeout(150_000);

/** SHUTDOWN_GRACE_MS of the gateway, and the worker's shutdownGraceTime (src/workers/worker.ts). */
const GRACE_MS = 10_000;

/**
 * Issue 17, item 13: a chat workflow whose activity waits for a slow chat reply (25 s, deadline
 * 30 s). SIGTERM must cut short what waits on it: the API's wait for the workflow result, and
 * the worker's wait for the chat reply; the run goes on elsewhere.
 */
describe('SIGTERM with a chat workflow waiting on a slow chat reply', () => {
  const topics = {
    ...chatTopicOverrides('wf-shutdown'),
    TEMPORAL_TASK_QUEUE: `test-wf-shutdown-${uniqueSuffix()}`,
    CHAT_REQUEST_TIMEOUT_MS: '30000',
  };
  let auth: AuthFake;
  let fake: ChatServiceFake;
  const workers: { worker: GatewayWorker; running: Promise<void> }[] = [];

  async function startWorker() {
    const worker = await createWorker(testConfig({ ...topics, AUTH_SERVICE_URL: auth.url }), createLogger('silent'), {
      taskQueue: topics.TEMPORAL_TASK_QUEUE,
    });
    const entry = { worker, running: worker.worker.run() };
    workers.push(entry);
    return entry;
  }

  beforeAll(async () => {
    auth = await startAuthFake({ port: 0 });
    await createChatTopics(testConfig(topics));
    fake = await startChatFake(testConfig(topics), { delayMs: 25_000, operations: ['chat_delete_all_prompts'] });
  });

  afterAll(async () => {
    for (const { worker, running } of workers) {
      if (worker.worker.getState() === 'RUNNING') worker.worker.shutdown();
      await running;
      await worker.close();
    }
    await fake?.stop();
    await deleteChatTopics(testConfig(topics));
    await auth?.close();
  });

  it('the API answers 202 at once and exits in the grace, the worker stops in its grace, another worker finishes the run', async () => {
    const first = await startWorker();
    const { child, url } = await spawnGateway({
      ...topics,
      ...authFakeEnv(auth),
      WORKFLOW_SYNC_TIMEOUT_MS: '30000',
      SHUTDOWN_GRACE_MS: String(GRACE_MS),
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let workflowId: string;
    try {
      const user = auth.createUser({ email: `wf-shutdown-${uniqueSuffix()}@example.com`, password: 'shutdown-pass-1' });
      const { access_token: token } = await auth.issueTokens(user.sub);
      const deleting = call(url, 'DELETE', '/api/chat/prompts/delete_all/', { token });
      await waitFor('delete_all at the chat service', async () => fake.requests('chat_delete_all_prompts').length > 0);

      const sigterm = Date.now();
      child.kill('SIGTERM');
      const res = await deleting;
      // At once: not at the 25 s reply, nor the 30 s wait, nor the grace.
      expect(Date.now() - sigterm).toBeLessThan(3_000);
      expect(res.status).toBe(202);
      expect(res.headers.location).toEqual(expect.stringContaining('/v1/operations/'));
      workflowId = (res.body as { operation_id: string }).operation_id;
      expect(await exited).toBe(0);
      expect(Date.now() - sigterm).toBeLessThan(GRACE_MS);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }

    // The worker's activity still waits for the reply; its shutdown ends that wait at the grace.
    const stopping = Date.now();
    first.worker.worker.shutdown();
    await first.running;
    expect(Date.now() - stopping).toBeLessThan(GRACE_MS + 3_000);

    // Another worker takes the retry, with the same request_id, and the run completes.
    fake.set({ delayMs: 0 });
    await startWorker();
    const connection = await Connection.connect({ address: testConfig().TEMPORAL_ADDRESS });
    try {
      const client = new Client({
        connection,
        dataConverter: { payloadCodecs: [AesGcmPayloadCodec.fromConfig(testConfig().TEMPORAL_CODEC_KEYS)] },
      });
      await expect(client.workflow.getHandle(workflowId).result()).resolves.toEqual({ deleted_count: 0 });
    } finally {
      await connection.close();
    }
    const ids = new Set(
      fake.requests('chat_delete_all_prompts').map((r) => (r.envelope as { request_id: string }).request_id),
    );
    expect(fake.requests('chat_delete_all_prompts').length).toBeGreaterThanOrEqual(2);
    expect(ids.size).toBe(1);
  });
});
