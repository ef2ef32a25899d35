import { FormData } from 'undici';
import { call as callGateway, startGateway, type CallOptions, type RunningGateway } from '../support/gateway';
import { CHAT_ERROR_ANSWERS, startChatStack, type ChatStack } from '../support/chat-fake';

jest.setTimeout(60_000);

describe('chat routes through the gateway, the real broker and the chat-service fake', () => {
  let stack: ChatStack;
  let alice: { token: string; sub: string; email: string };
  let bob: { token: string; sub: string; email: string };

  beforeAll(async () => {
    stack = await startChatStack({ CHAT_REQUEST_TIMEOUT_MS: '1500', DOCUMENT_BODY_LIMIT_BYTES: '4096' });
    alice = await stack.signUp('Alice Liddell');
    bob = await stack.signUp('Bob');
  });

  afterEach(() => stack.fake.reset());

  afterAll(async () => {
    await stack?.close();
  });

  const call = (method: string, path: string, opts?: CallOptions) => stack.call(method, path, opts);

  const isoDate = expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/);
  /** A record the chat service just created for a user outside any organisation. */
  const newRecord = (fields: Record<string, unknown>) => ({
    id: expect.anything(),
    org_id: null,
    created_at: isoDate,
    ...fields,
  });

  it('refuses chat routes without a token', async () => {
    const res = await call('GET', '/api/chat/conversations/');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'unauthorized', detail: expect.any(String) });
  });

  it('creates, lists, reads, renames and deletes conversations', async () => {
    const created = await call('POST', '/api/chat/conversations/', {
      token: alice.token,
      body: { topic: 'NDA review' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual(newRecord({ conversation_id: 1, topic: 'NDA review', updated_at: isoDate }));
    await call('POST', '/api/chat/conversations', { token: alice.token, body: { topic: 'Second' } });
    await call('POST', '/api/chat/conversations/', { token: alice.token, body: { topic: 'Third' } });

    const listed = await call('GET', '/api/chat/conversations/?limit=2&offset=1', { token: alice.token });
    expect(listed.status).toBe(200);
    expect(listed.headers['x-total-count']).toBe('3');
    expect(listed.body.map((c: any) => c.topic)).toEqual(['Second', 'Third']);

    for (const path of ['/api/chat/conversations/1/', '/api/chat/conversations/1']) {
      const one = await call('GET', path, { token: alice.token });
      expect(one.status).toBe(200);
      expect(one.body).toEqual(created.body);
    }

    const renamed = await call('PUT', '/api/chat/conversations/1/', { token: alice.token, body: { topic: 'Renamed' } });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ conversation_id: 1, topic: 'Renamed' });

    const deleted = await call('DELETE', '/api/chat/conversations/1/', { token: alice.token });
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBe('');

    const gone = await call('GET', '/api/chat/conversations/1/', { token: alice.token });
    expect(gone.status).toBe(404);
    expect(gone.body).toEqual({
      code: 'not_found',
      detail: 'Conversation 1 not found',
      request_id: expect.any(String),
    });
  });

  it('sends the verified user as user_context, with the request id, and drops unknown fields', async () => {
    const res = await call('POST', '/api/chat/prompts/', {
      token: alice.token,
      headers: { 'x-request-id': 'chat-route-req-1' },
      body: { title: 'Summarise', content: 'Summarise {text}', evil: 'ignored' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.anything(),
      prompt_id: 1,
      title: 'Summarise',
      content: 'Summarise {text}',
      created_at: isoDate,
    });
    const sent = stack.fake.requests('chat_create_prompt').at(-1)!;
    const env = sent.envelope as any;
    expect(sent.headers.request_id).toBe(env.request_id);
    expect(env.payload).toEqual({
      title: 'Summarise',
      content: 'Summarise {text}',
      user_context: {
        sub: alice.sub,
        email: alice.email,
        full_name: 'Alice Liddell',
        active_org_id: null,
        org_role: null,
      },
      request_metadata: {
        source_ip: '127.0.0.1',
        user_agent: expect.any(String),
        gateway_request_id: 'chat-route-req-1',
      },
    });
  });

  it('keeps users apart: another user’s number is simply not found', async () => {
    await call('POST', '/api/chat/prompts/', { token: bob.token, body: { title: 'Bob only', content: 'x' } });
    const list = await call('GET', '/api/chat/prompts/', { token: bob.token });
    expect(list.body.map((p: any) => p.title)).toEqual(['Bob only']);
    const res = await call('GET', '/api/chat/conversations/2/', { token: bob.token });
    expect(res.status).toBe(404);
  });

  it('validates per-user numbers in paths and bodies as positive integers', async () => {
    for (const bad of ['abc', '0', '-1', '1.5']) {
      const res = await call('GET', `/api/chat/conversations/${bad}/`, { token: alice.token });
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('validation_error');
    }
    const missing = await call('POST', '/api/chat/messages/', {
      token: alice.token,
      body: { message: 'no conversation' },
    });
    expect(missing.status).toBe(422);
    expect(missing.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'conversation' })]));
  });

  it('creates, lists (per conversation), reads, updates and deletes messages', async () => {
    const conv = await call('POST', '/api/chat/conversations/', { token: bob.token, body: { topic: 'Messages' } });
    const n = conv.body.conversation_id as number;
    const created = await call('POST', '/api/chat/messages/', {
      token: bob.token,
      body: { conversation: n, message: 'Hello', is_bot: false, tokens: 3 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.anything(),
      message_id: 1,
      conversation: n,
      message: 'Hello',
      is_bot: false,
      message_type: 0,
      embedding_message_doc: null,
      messages: '',
      tokens: 3,
      created_at: isoDate,
    });
    expect((stack.fake.requests('chat_create_message').at(-1)!.envelope as any).payload.conversation_id).toBe(n);
    await call('POST', '/api/chat/messages/', {
      token: bob.token,
      body: { conversation: n, message: 'Hi!', is_bot: true },
    });

    const listed = await call('GET', `/api/chat/messages/?conversationId=${n}`, { token: bob.token });
    expect(listed.headers['x-total-count']).toBe('2');
    expect(listed.body.map((m: any) => m.message)).toEqual(['Hello', 'Hi!']);
    const none = await call('GET', '/api/chat/messages/?conversationId=999', { token: bob.token });
    expect(none.status).toBe(404);

    const updated = await call('PUT', '/api/chat/messages/1/', { token: bob.token, body: { message: 'Hello there' } });
    expect(updated.body).toMatchObject({ message_id: 1, message: 'Hello there' });
    expect((await call('GET', '/api/chat/messages/1', { token: bob.token })).body.message).toBe('Hello there');
    expect((await call('DELETE', '/api/chat/messages/1/', { token: bob.token })).status).toBe(204);
    expect((await call('GET', '/api/chat/messages/1/', { token: bob.token })).status).toBe(404);
  });

  it('reads, updates and deletes prompts', async () => {
    const created = await call('POST', '/api/chat/prompts/', { token: bob.token, body: { title: 'P', content: 'c' } });
    const id = created.body.prompt_id as number;
    expect((await call('GET', `/api/chat/prompts/${id}/`, { token: bob.token })).body).toEqual(created.body);
    const updated = await call('PUT', `/api/chat/prompts/${id}/`, { token: bob.token, body: { content: 'new' } });
    expect(updated.body).toMatchObject({ prompt_id: id, title: 'P', content: 'new' });
    expect((await call('DELETE', `/api/chat/prompts/${id}`, { token: bob.token })).status).toBe(204);
    expect((await call('GET', `/api/chat/prompts/${id}/`, { token: bob.token })).status).toBe(404);
  });

  it('uploads documents as a JSON data URL and as multipart, within the document body limit', async () => {
    const file = Buffer.from('%PDF-1.4 tiny document');
    const json = await call('POST', '/api/chat/embedding_document/', {
      token: alice.token,
      body: { title: 'Contract', file: `data:application/pdf;base64,${file.toString('base64')}` },
    });
    expect(json.status).toBe(201);
    expect(json.body).toEqual(newRecord({ document_id: 1, title: 'Contract' }));
    expect(stack.fake.store.documentBytes(alice.sub, 1)).toBe(file.length);

    const form = new FormData();
    form.append('title', 'Scanned');
    form.append('file', new Blob([file], { type: 'application/pdf' }), 'scan.pdf');
    const multi = await call('POST', '/api/chat/embedding_document/', { token: alice.token, raw: form });
    expect(multi.status).toBe(201);
    expect(multi.body).toMatchObject({ document_id: 2, title: 'Scanned' });
    expect(stack.fake.store.documentBytes(alice.sub, 2)).toBe(file.length);
    const sentFile = (stack.fake.requests('chat_upload_document').at(-1)!.envelope as any).payload.file as string;
    expect(sentFile.startsWith('data:application/pdf;base64,')).toBe(true);

    const list = await call('GET', '/api/chat/embedding_document/', { token: alice.token });
    expect(list.headers['x-total-count']).toBe('2');
    const renamed = await call('PUT', '/api/chat/embedding_document/2/', {
      token: alice.token,
      body: { title: 'Scan' },
    });
    expect(renamed.body).toMatchObject({ document_id: 2, title: 'Scan' });
    expect((await call('GET', '/api/chat/embedding_document/2/', { token: alice.token })).body.title).toBe('Scan');

    const bigForm = new FormData();
    bigForm.append('title', 'Too big');
    bigForm.append('file', new Blob([Buffer.alloc(8192, 1)]), 'big.bin');
    const tooBig = await call('POST', '/api/chat/embedding_document/', { token: alice.token, raw: bigForm });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.code).toBe('payload_too_large');
    const tooBigJson = await call('POST', '/api/chat/embedding_document/', {
      token: alice.token,
      body: { title: 'Too big', file: `data:application/pdf;base64,${Buffer.alloc(8192).toString('base64')}` },
    });
    expect(tooBigJson.status).toBe(413);
    const notDataUrl = await call('POST', '/api/chat/embedding_document/', {
      token: alice.token,
      body: { title: 'x', file: 'http://example.test/file.pdf' },
    });
    expect(notDataUrl.status).toBe(422);
    const wrongType = await call('POST', '/api/chat/embedding_document/', {
      token: alice.token,
      raw: 'title=x',
      headers: { 'content-type': 'text/plain' },
    });
    expect(wrongType.status).toBe(415);

    expect((await call('DELETE', '/api/chat/embedding_document/1/', { token: alice.token })).status).toBe(204);
    expect((await call('GET', '/api/chat/embedding_document/1/', { token: alice.token })).status).toBe(404);
  });

  it('generates a title', async () => {
    const conv = await call('POST', '/api/chat/conversations/', { token: bob.token, body: { topic: 'untitled' } });
    const n = conv.body.conversation_id as number;
    await call('POST', '/api/chat/messages/', {
      token: bob.token,
      body: { conversation: n, message: 'Please review the indemnity clause of this lease' },
    });
    const res = await call('POST', '/api/gen_title/', { token: bob.token, body: { conversationId: n } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ title: 'Please review the indemnity clause of', conversation_id: n });
  });

  it('serves settings without a token and answers 405 to other methods', async () => {
    const res = await call('GET', '/api/chat/settings/');
    expect(res.status).toBe(200);
    expect(res.body).toEqual(expect.arrayContaining([{ name: 'open_registration', value: 'True' }]));
    expect((await call('GET', '/api/chat/settings')).status).toBe(200);
    const post = await call('POST', '/api/chat/settings/', { body: {} });
    expect(post.status).toBe(405);
    expect(String(post.headers.allow)).toMatch(/GET/);
  });

  it.each(CHAT_ERROR_ANSWERS)('maps the chat error %j to HTTP %i', async (error, status, code, detail) => {
    stack.fake.set({ error });
    const res = await call('POST', '/api/chat/conversations/', { token: alice.token, body: { topic: 'x' } });
    expect(res.status).toBe(status);
    expect(res.body).toEqual({ code, detail, request_id: expect.any(String) });
  });

  it('answers 504 when the chat service stays silent until the deadline', async () => {
    stack.fake.set({ silent: true });
    const started = Date.now();
    const res = await call('GET', '/api/chat/conversations/', { token: alice.token });
    const elapsed = Date.now() - started;
    expect(res.status).toBe(504);
    expect(res.body.code).toBe('upstream_timeout');
    expect(elapsed).toBeGreaterThanOrEqual(1_400);
    expect(elapsed).toBeLessThan(3_000);
  });

  it('describes every chat route in OpenAPI under the chat tag', async () => {
    const doc = (await call('GET', '/docs/json')).body;
    const paths = Object.keys(doc.paths).filter((p) => doc.paths[p] && JSON.stringify(doc.paths[p]).includes('"chat"'));
    expect(paths).toEqual(
      expect.arrayContaining([
        '/api/chat/conversations/',
        '/api/chat/conversations/{conversation_id}/',
        '/api/chat/conversations/delete_all/',
        '/api/chat/messages/',
        '/api/chat/messages/{message_id}/',
        '/api/conversation/',
        '/api/gen_title/',
        '/api/upload_conversations/',
        '/api/chat/prompts/',
        '/api/chat/prompts/{prompt_id}/',
        '/api/chat/prompts/delete_all/',
        '/api/chat/embedding_document/',
        '/api/chat/embedding_document/{document_id}/',
        '/api/chat/embedding_document/delete_all/',
        '/api/chat/settings/',
      ]),
    );
    const list = doc.paths['/api/chat/conversations/'].get;
    expect(list.responses['200'].headers['x-total-count']).toBeDefined();
    expect(Object.keys(doc.paths['/api/chat/embedding_document/'].post.requestBody.content).sort()).toEqual([
      'application/json',
      'multipart/form-data',
    ]);
  });

  it('delivers every reply to the gateway instance that asked, with two instances under concurrent load', async () => {
    const second: RunningGateway = await startGateway(stack.config);
    try {
      await second.deps.chat.whenReady(20_000);
      const fire = (base: string, name: string) =>
        Array.from({ length: 60 }, (_, i) =>
          callGateway(base, 'POST', '/api/chat/prompts/', {
            token: alice.token,
            body: { title: `${name}-${i}`, content: name },
          }),
        );
      const [a, b] = await Promise.all([
        Promise.all(fire(stack.gw.url, 'first')),
        Promise.all(fire(second.url, 'second')),
      ]);
      expect(a.map((r) => r.status)).toEqual(Array(60).fill(201));
      expect(b.map((r) => r.status)).toEqual(Array(60).fill(201));
      expect(a.map((r) => r.body.title)).toEqual(Array.from({ length: 60 }, (_, i) => `first-${i}`));
      expect(b.map((r) => r.body.title)).toEqual(Array.from({ length: 60 }, (_, i) => `second-${i}`));
      expect(new Set([...a, ...b].map((r) => r.body.prompt_id)).size).toBe(120);
    } finally {
      await second.close();
    }
  });
});
