import { startChatStack, type ChatStack } from '../support/chat-fake';
import { call as callGateway } from '../support/gateway';
import { captureLog } from '../support/log-capture';
import { startWorker, uniqueSuffix, type RunningWorker } from '../support/stack';

jest.setTimeout(120_000);

/** The client-visible shape of a JSON value: keys and value types, the first element of a list. */
function shape(value: unknown): unknown {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length ? ['array of', shape(value[0])] : ['array of', 'nothing'];
  if (typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, shape(v)]),
    );
  }
  return typeof value;
}

/** SSE events as [event name, shape of its data]. */
function sseShape(text: string): unknown {
  return text
    .split('\n\n')
    .filter((block) => block.includes('event:'))
    .map((block) => {
      const event = /event: ?(.*)/.exec(block)?.[1];
      const data = /data: ?(.*)/.exec(block)?.[1];
      return [event, data ? shape(JSON.parse(data)) : 'none'];
    })
    .filter(([event], i, all) => event !== 'message' || all[i - 1]?.[0] !== 'message');
}

describe('liberal with upstreams: nulls, unknown fields and digit-string ids change nothing clients see', () => {
  let stack: ChatStack;
  // The workflow-backed chat routes (import, delete all) read their replies in the worker.
  let worker: RunningWorker;
  const log = captureLog();

  beforeAll(async () => {
    const taskQueue = `variance-${uniqueSuffix()}`;
    stack = await startChatStack(
      { CHAT_REQUEST_TIMEOUT_MS: '5000', LOG_LEVEL: 'warn', TEMPORAL_TASK_QUEUE: taskQueue },
      {},
      log.stream,
    );
    worker = await startWorker(stack.config);
  });

  afterAll(async () => {
    await worker?.stop();
    await stack?.close();
  });

  const call = (method: string, path: string, token?: string, body?: unknown) =>
    callGateway(stack.gw.url, method, path, { token, body });

  /** Every chat route once, in an order that gives each something to act on; route → status and shape. */
  async function everyChatRoute(token: string): Promise<Map<string, { status: number; shape: unknown }>> {
    const seen = new Map<string, { status: number; shape: unknown }>();
    const run = async (method: string, template: string, path: string, body?: unknown) => {
      const res = await call(method, path, token, body);
      const visible = String(res.headers['content-type']).includes('event-stream')
        ? sseShape(res.body)
        : shape(res.body);
      seen.set(`${method} ${template}`, { status: res.status, shape: visible });
      return res;
    };
    const C = '/api/chat/conversations/';
    const M = '/api/chat/messages/';
    const P = '/api/chat/prompts/';
    const D = '/api/chat/embedding_document/';
    await run('GET', '/api/chat/settings/', '/api/chat/settings/');
    await run('POST', C, C, { topic: 'Variance' });
    await run('GET', C, C);
    await run('GET', `${C}{conversation_id}/`, `${C}1/`);
    await run('PUT', `${C}{conversation_id}/`, `${C}1/`, { topic: 'Renamed' });
    await run('POST', M, M, { conversation: 1, message: 'Hello', is_bot: false });
    await run('GET', M, `${M}?conversationId=1`);
    await run('GET', `${M}{message_id}/`, `${M}1/`);
    await run('PUT', `${M}{message_id}/`, `${M}1/`, { message: 'Hello again' });
    await run('POST', '/api/conversation/', '/api/conversation/', {
      name: 'gpt-4o',
      message: [{ content: 'Tell me a story' }],
      conversationId: 1,
    });
    await run('POST', '/api/gen_title/', '/api/gen_title/', { conversationId: 1 });
    await run('POST', '/api/upload_conversations/', '/api/upload_conversations/', {
      imports: [{ conversation_topic: 'Imported', messages: [{ role: 'user', content: 'hi' }] }],
    });
    await run('POST', P, P, { title: 'Summary', content: 'Summarise {text}' });
    await run('GET', P, P);
    await run('GET', `${P}{prompt_id}/`, `${P}1/`);
    await run('PUT', `${P}{prompt_id}/`, `${P}1/`, { title: 'Short summary' });
    await run('DELETE', `${P}{prompt_id}/`, `${P}1/`);
    await run('DELETE', `${P}delete_all/`, `${P}delete_all/`);
    await run('POST', D, D, { title: 'Notes', file: 'data:text/plain;base64,aGVsbG8=' });
    await run('GET', D, D);
    await run('GET', `${D}{document_id}/`, `${D}1/`);
    await run('PUT', `${D}{document_id}/`, `${D}1/`, { title: 'Renamed notes' });
    await run('DELETE', `${D}{document_id}/`, `${D}1/`);
    await run('DELETE', `${D}delete_all/`, `${D}delete_all/`);
    await run('DELETE', `${M}{message_id}/`, `${M}1/`);
    await run('DELETE', `${C}{conversation_id}/`, `${C}1/`);
    await run('DELETE', `${C}delete_all/`, `${C}delete_all/`);
    return seen;
  }

  it('answers every chat route with the same status and shape when the chat service varies', async () => {
    const normal = await everyChatRoute((await stack.signUp('Normal')).token);
    stack.fake.set({ variance: true });
    try {
      const varied = await everyChatRoute((await stack.signUp('Varied')).token);
      expect([...varied.entries()]).toEqual([...normal.entries()]);
    } finally {
      stack.fake.reset();
    }
    // 2xx, and no 202: the workflow-backed routes finished, so their replies went through the reader too.
    for (const [route, { status }] of normal) expect([route, [200, 201, 204].includes(status)]).toEqual([route, true]);

    // EVERY chat route: the scenario covers each operation OpenAPI lists under the chat tag.
    const doc = (await call('GET', '/docs/json')).body as {
      paths: Record<string, Record<string, { tags?: string[] }>>;
    };
    const chatRoutes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => op.tags?.includes('chat'))
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect([...normal.keys()].sort()).toEqual(chatRoutes.sort());
  });

  it('maps auth-service replies with nulls and unknown fields to the same client-visible shape', async () => {
    const routes = async (token: string) => {
      const me = await call('GET', '/v1/client/me', token);
      const updated = await call('PATCH', '/v1/client/update', token, { full_name: 'New Name' });
      const org = await call('POST', '/v1/org', token, { name: `Org ${Date.now()}-${Math.random()}` });
      const members = await call('GET', `/v1/org/${org.body.org_id}/members`, token);
      const meAgain = await call('GET', '/v1/client/me', token);
      // full_name and active_org_id are nullable in the gateway's own contract: null is their type too.
      const nullable = (body: unknown) =>
        JSON.parse(
          JSON.stringify(shape(body)).replace(/"(full_name|active_org_id)":"(string|null)"/g, '"$1":"string|null"'),
        );
      return [me, updated, org, members, meAgain].map((r) => ({ status: r.status, shape: nullable(r.body) }));
    };
    const normal = await routes((await stack.signUp('Auth Normal')).token);
    stack.auth.setVariance(true);
    try {
      const varied = await routes((await stack.signUp('Auth Varied')).token);
      expect(varied).toEqual(normal);
      expect(normal.map((r) => r.status)).toEqual([200, 200, 201, 200, 200]);
    } finally {
      stack.auth.setVariance(false);
    }
  });

  it('refuses a reply without an id it acts on: 502, counted, logged once with the field path', async () => {
    const { token } = await stack.signUp('Refused');
    stack.auth.failNext(1, 200, { body: { email: 'x@example.test', orgs: [] }, match: { path: '/v1/client/me' } });
    const metrics = () => callGateway(stack.gw.admin, 'GET', '/metrics');
    const before = await metrics();
    const res = await call('GET', '/v1/client/me', token);
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ code: 'upstream_error', detail: expect.any(String) });
    const after = await metrics();
    const count = (text: string) =>
      Number(/gateway_upstream_replies_refused_total\{upstream="auth",operation="me"\} (\d+)/.exec(text)?.[1] ?? 0);
    expect(count(after.body) - count(before.body)).toBe(1);
    // The auth service's pool, idle again: nothing on a connection, nothing waiting.
    expect(after.body).toMatch(/^gateway_upstream_pool_in_flight\{upstream="auth-service"\} 0$/m);
    expect(after.body).toMatch(/^gateway_upstream_pool_waiting\{upstream="auth-service"\} 0$/m);
    const refusals = log.lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.request_id === res.headers['x-request-id'] && line.field !== undefined);
    expect(refusals).toEqual([
      expect.objectContaining({ upstream: 'auth', operation: 'me', field: 'sub', code: 'upstream_error' }),
    ]);
  });
});
