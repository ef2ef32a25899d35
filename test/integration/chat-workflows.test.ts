import type { ChildProcess } from 'node:child_process';
import { CHAT_REQUEST_TOPICS } from '../../src/chat/operations';
import { describeOperation, type OperationView } from '../../src/temporal/operations';
import { GatewayOperation, GatewayRequestId, GatewayUserId } from '../../src/temporal/search-attributes';
import { startChatStack, type ChatStack } from '../support/chat-fake';
import { call as callAs, type CallOptions } from '../support/gateway';
import { spawnWorker, stopProcess, uniqueSuffix, waitFor } from '../support/stack';

jest.setTimeout(120_000);

describe('chat workflows: conversation import and delete_all on the real Temporal server', () => {
  let stack: ChatStack;
  let user: { token: string; sub: string };
  let workerEnv: Record<string, string>;
  let worker: ChildProcess | undefined;

  beforeAll(async () => {
    const taskQueue = `test-chat-${uniqueSuffix()}`;
    const overrides = {
      TEMPORAL_TASK_QUEUE: taskQueue,
      WORKFLOW_SYNC_TIMEOUT_MS: '3000',
      CHAT_UPLOAD_BATCH_SIZE: '50',
      CHAT_REQUEST_TIMEOUT_MS: '3000',
    };
    stack = await startChatStack(overrides);
    user = await stack.signUp();
    const topics = Object.fromEntries(
      [...CHAT_REQUEST_TOPICS, 'CHAT_SERVICE_RESPONSES_TOPIC' as const, 'CHAT_SERVICE_EVENTS_TOPIC' as const].map(
        (k) => [k, stack.config[k]],
      ),
    );
    workerEnv = { ...overrides, ...topics, OUTBOX_RELAY_ENABLED: 'false', LOG_LEVEL: 'info', NODE_ENV: 'test' };
    worker = await spawnWorker(workerEnv);
  });

  afterEach(() => stack.fake.reset());

  afterAll(async () => {
    await stopProcess(worker, 'SIGTERM');
    await stack?.close();
  });

  const call = (method: string, path: string, opts: CallOptions = {}) =>
    callAs(stack.gw.url, method, path, { token: user.token, ...opts });

  const describe_ = (id: string) => describeOperation(stack.gw.deps.temporal.client.workflow.getHandle(id));

  it('imports 500 conversations exactly once although the worker is killed in the middle', async () => {
    // Each batch takes a while, so the import outlives WORKFLOW_SYNC_TIMEOUT_MS and the kill lands mid-way.
    stack.fake.set({ delayMs: 500, operations: ['chat_upload_conversations'] });
    const imports = Array.from({ length: 500 }, (_, i) => ({
      conversation_topic: `Imported ${i}`,
      messages: [
        { role: 'user' as const, content: `question ${i}` },
        { role: 'assistant' as const, content: `answer ${i}` },
      ],
    }));
    const res = await call('POST', '/api/upload_conversations/', {
      body: { imports },
      headers: { 'idempotency-key': 'import-500', 'x-request-id': 'req-import-500' },
    });
    expect(res.status).toBe(202);
    const workflowId = `chat-upload-conversations/${user.sub}/import-500`;
    expect(res.body).toEqual({ operation_id: workflowId, status: 'running' });
    expect(res.headers.location).toBe(`/v1/operations/${encodeURIComponent(workflowId)}`);

    const midway = await waitFor(
      'progress past the first batches',
      async () => {
        const { operation } = await describe_(workflowId);
        return operation.progress && operation.progress.done >= 100 ? operation : undefined;
      },
      30_000,
      100,
    );
    expect(midway).toMatchObject({ id: workflowId, kind: 'chat-upload-conversations', status: 'running' });
    expect(midway.progress!.total).toBe(500);
    expect(midway.progress!.done).toBeLessThan(500);

    const viaHttp = await call('GET', res.headers.location as string);
    expect(viaHttp.status).toBe(200);
    expect(viaHttp.body).toMatchObject({ id: workflowId, kind: 'chat-upload-conversations', status: 'running' });
    expect(viaHttp.body.progress.total).toBe(500);
    expect(viaHttp.body.progress.done).toBeGreaterThanOrEqual(100);

    await stopProcess(worker, 'SIGKILL');
    const killedAt = (await describe_(workflowId)).operation.progress!.done;
    expect(killedAt).toBeLessThan(500);
    worker = await spawnWorker(workerEnv);

    const done = await waitFor(
      'the import to finish',
      async () => {
        const { operation } = await describe_(workflowId);
        return operation.status === 'completed' ? operation : undefined;
      },
      90_000,
      250,
    );
    const ids = (done.result as { conversation_ids: number[] }).conversation_ids;
    expect(ids).toHaveLength(500);
    expect(new Set(ids).size).toBe(500);
    expect(done.progress).toEqual({ done: 500, total: 500 });

    // Every conversation exists once in the chat service, however often a batch was sent.
    const data = stack.fake.store.user(user.sub);
    const topics = [...data.conversations.values()].map((c) => c.topic);
    expect(topics).toHaveLength(500);
    expect(new Set(topics).size).toBe(500);
    expect(data.messages.size).toBe(1000);
    const batchIds = stack.fake
      .requests('chat_upload_conversations')
      .map((r) => (r.envelope as { payload: { batch_id: string } }).payload.batch_id);
    expect(new Set(batchIds)).toEqual(new Set(Array.from({ length: 10 }, (_, i) => `${workflowId}/batch-${i}`)));
    for (const r of stack.fake.requests('chat_upload_conversations')) {
      expect((r.envelope as { request_id: string }).request_id).toBe(
        (r.envelope as { payload: { batch_id: string } }).payload.batch_id,
      );
    }

    const desc = await stack.gw.deps.temporal.client.workflow.getHandle(workflowId).describe();
    expect(desc.typedSearchAttributes.get(GatewayOperation)).toBe('chat-upload-conversations');
    expect(desc.typedSearchAttributes.get(GatewayUserId)).toBe(user.sub);
    expect(desc.typedSearchAttributes.get(GatewayRequestId)).toBe('req-import-500');
    expect(desc.memo).toMatchObject({ request_id: 'req-import-500' });

    const finished = await call('GET', res.headers.location as string);
    expect(finished.body).toMatchObject({ status: 'completed', progress: { done: 500, total: 500 } });
    expect(finished.body.result.conversation_ids).toEqual(ids);

    const list = await call('GET', '/api/chat/conversations/?limit=1');
    expect(list.headers['x-total-count']).toBe('500');
  });

  it('runs delete_all for conversations, prompts and documents as workflows, and the data is gone', async () => {
    const other = await stack.signUp();
    const as = (path: string, body?: unknown) =>
      callAs(stack.gw.url, body === undefined ? 'DELETE' : 'POST', path, { token: other.token, body });
    for (let i = 0; i < 3; i += 1) expect((await as('/api/chat/conversations/', { topic: `c${i}` })).status).toBe(201);
    for (let i = 0; i < 2; i += 1)
      expect((await as('/api/chat/prompts/', { title: `p${i}`, content: 'x' })).status).toBe(201);
    expect(
      (await as('/api/chat/embedding_document/', { title: 'd', file: 'data:text/plain;base64,aGVsbG8=' })).status,
    ).toBe(201);

    const expected = { conversations: 3, prompts: 2, embedding_document: 1 };
    for (const [path, count] of Object.entries(expected)) {
      const res = await as(`/api/chat/${path}/delete_all/`);
      expect({ path, status: res.status, body: res.body }).toEqual({
        path,
        status: 200,
        body: { deleted_count: count },
      });
    }
    const data = stack.fake.store.user(other.sub);
    expect([data.conversations.size, data.prompts.size, data.documents.size]).toEqual([0, 0, 0]);
    for (const op of ['chat_delete_all_conversations', 'chat_delete_all_prompts', 'chat_delete_all_documents']) {
      const sent = stack.fake.requests(op).at(-1)!.envelope as { request_id: string; payload: any };
      expect(sent.request_id).toMatch(new RegExp(`^chat-delete-all/\\w+/${other.sub}/`));
      expect(sent.payload.user_context.sub).toBe(other.sub);
      const view: OperationView = (await describe_(sent.request_id)).operation;
      expect(view).toMatchObject({ kind: 'chat-delete-all', status: 'completed' });
    }
    const list = await callAs(stack.gw.url, 'GET', '/api/chat/conversations/', { token: other.token });
    expect(list.headers['x-total-count']).toBe('0');
    expect(list.body).toEqual([]);
  });

  it('answers with the chat service’s error when the workflow fails for good', async () => {
    stack.fake.set({
      error: { code: 'validation_error', message: 'imports[0]: unsupported role' },
      operations: ['chat_upload_conversations'],
    });
    const res = await call('POST', '/api/upload_conversations/', {
      body: { imports: [{ conversation_topic: 'x', messages: [{ role: 'user', content: 'y' }] }] },
    });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: 'validation_error', detail: 'imports[0]: unsupported role' });
  });
});
