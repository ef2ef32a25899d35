import Fastify from 'fastify';
import { request } from 'undici';
import { sendSse, sseFrame, type SseEvent } from '../../src/chat/sse';
import { fakeAnswer, fakeTokens, startChatStack, type ChatStack } from '../support/chat-fake';
import { startGateway } from '../support/gateway';
import { waitFor } from '../support/stack';

jest.setTimeout(60_000);

/** The frames the gateway must send for one answer, byte for byte. */
function expectedFrames(question: string, ids: { user: number; bot: number; conversation: number }): string {
  return [
    sseFrame('userMessageId', { userMessageId: ids.user }),
    ...fakeTokens(fakeAnswer(question)).map((content) => sseFrame('message', { content })),
    sseFrame('done', { messageId: ids.bot, conversationId: ids.conversation, newDocId: null }),
  ].join('');
}

describe('POST /api/conversation/ as server-sent events', () => {
  let stack: ChatStack;
  let user: { token: string; sub: string };

  beforeAll(async () => {
    stack = await startChatStack({ CHAT_STREAM_IDLE_TIMEOUT_MS: '1500' });
    user = await stack.signUp();
  });

  afterEach(() => stack.fake.reset());

  afterAll(async () => {
    await stack?.close();
  });

  async function ask(body: unknown, signal?: AbortSignal) {
    const started = performance.now();
    const res = await request(`${stack.gw.url}/api/conversation/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal,
    });
    return { res, headersAfterMs: performance.now() - started };
  }

  const lastStreamRequest = () => stack.fake.requests('chat_ai_conversation').at(-1)!.envelope as any;

  it('streams the answer as frames in sequence order, with the SSE headers', async () => {
    const { res } = await ask({ name: 'gpt-4o', message: [{ content: 'Hello world' }] });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['x-accel-buffering']).toBe('no');
    expect(res.headers['x-request-id']).toEqual(expect.any(String));
    expect(await res.body.text()).toBe(expectedFrames('Hello world', { user: 1, bot: 2, conversation: 1 }));
  });

  it('maps conversationId and frugalMode to the chat payload', async () => {
    const { res } = await ask({
      name: 'gpt-4o',
      message: [{ content: 'Again' }],
      conversationId: 1,
      frugalMode: true,
      temperature: 0.2,
    });
    expect(await res.body.text()).toBe(expectedFrames('Again', { user: 3, bot: 4, conversation: 1 }));
    const payload = lastStreamRequest().payload;
    expect(payload).toMatchObject({ name: 'gpt-4o', conversation_id: 1, frugal_mode: true, temperature: 0.2 });
    expect(payload).not.toHaveProperty('conversationId');
    expect(payload).not.toHaveProperty('frugalMode');
    expect(payload.user_context.sub).toBe(user.sub);
  });

  it('sends the same bytes when the chat service sends chunks out of order and twice', async () => {
    stack.fake.set({ shuffleChunks: true, duplicateReplies: true });
    const question = 'Is this clause enforceable in court';
    const { res } = await ask({ name: 'gpt-4o', message: [{ content: question }], conversationId: 1 });
    expect(await res.body.text()).toBe(expectedFrames(question, { user: 5, bot: 6, conversation: 1 }));
  });

  it('sends the first byte at once, before the chat service answers', async () => {
    stack.fake.set({ delayMs: 800 });
    const { res, headersAfterMs } = await ask({ name: 'gpt-4o', message: [{ content: 'Slow' }], conversationId: 1 });
    expect(headersAfterMs).toBeLessThan(400);
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toBe(expectedFrames('Slow', { user: 7, bot: 8, conversation: 1 }));
  });

  it('ends with an error event when the stream fails', async () => {
    const { res } = await ask({ name: 'gpt-4o', message: [{ content: 'x' }], conversationId: 999 });
    expect(await res.body.text()).toBe(sseFrame('error', { error: 'Conversation 999 not found' }));
  });

  it('ends with an error event after CHAT_STREAM_IDLE_TIMEOUT_MS of silence, and cancels upstream', async () => {
    stack.fake.set({ silent: true });
    const started = performance.now();
    const { res } = await ask({ name: 'gpt-4o', message: [{ content: 'Anyone?' }] });
    expect(await res.body.text()).toBe(sseFrame('error', { error: 'The chat service stopped answering' }));
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1_450);
    expect(elapsed).toBeLessThan(3_000);
    const requestId = lastStreamRequest().request_id as string;
    await waitFor('chat_cancel', async () => stack.fake.cancelled.has(requestId), 5_000);
  });

  it('tells the chat service with chat_cancel when the client goes away', async () => {
    stack.fake.set({ tokenDelayMs: 150 });
    const controller = new AbortController();
    const { res } = await ask(
      { name: 'gpt-4o', message: [{ content: 'one two three four five six seven eight nine ten' }] },
      controller.signal,
    );
    let received = '';
    await expect(
      (async () => {
        for await (const chunk of res.body) {
          received += String(chunk);
          if (received.includes('event: message')) controller.abort();
        }
      })(),
    ).rejects.toThrow();
    const requestId = lastStreamRequest().request_id as string;
    await waitFor('chat_cancel', async () => stack.fake.cancelled.has(requestId), 5_000);
    const cancel = stack.fake.requests('chat_cancel').at(-1)!;
    expect(cancel.topic).toBe(stack.config.CHAT_UI_AI_CONVERSATION_TOPIC);
    expect((cancel.envelope as any).payload).toMatchObject({
      cancel_request_id: requestId,
      user_context: { sub: user.sub },
    });
  });

  it('ends open streams with an error event when the gateway shuts down', async () => {
    stack.fake.set({ tokenDelayMs: 1_000 });
    const second = await startGateway(stack.config);
    await second.deps.chat.whenReady(20_000);
    const res = await request(`${second.url}/api/conversation/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'gpt-4o', message: [{ content: 'a long answer is coming' }] }),
    });
    const text = res.body.text();
    await waitFor('the first chunk', async () => stack.fake.requests('chat_ai_conversation').length > 0, 5_000);
    await new Promise((r) => setTimeout(r, 200));
    const started = performance.now();
    await second.close();
    expect(performance.now() - started).toBeLessThan(3_000);
    expect((await text).endsWith(sseFrame('error', { error: 'The gateway is shutting down' }))).toBe(true);
  });

  it('validates the body before streaming', async () => {
    const { res } = await ask({ name: 'gpt-4o', message: [] });
    expect(res.statusCode).toBe(422);
    expect(((await res.body.json()) as { code: string }).code).toBe('validation_error');
  });
});

describe('sendSse', () => {
  async function serve(events: () => AsyncIterable<SseEvent>, keepAliveMs?: number) {
    const app = Fastify();
    app.get('/sse', async (_request, reply) => {
      await sendSse(reply, events(), { keepAliveMs, onClientGone: () => undefined });
      return reply;
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    return { app, url: `http://127.0.0.1:${port}/sse` };
  }

  it('writes a keep-alive comment while the stream is idle', async () => {
    const { app, url } = await serve(async function* () {
      await new Promise((r) => setTimeout(r, 350));
      yield { event: 'done', data: { ok: true } };
    }, 100);
    try {
      const text = await (await request(url)).body.text();
      expect(text.match(/: keep-alive\n\n/g)?.length).toBeGreaterThanOrEqual(2);
      expect(text.endsWith(sseFrame('done', { ok: true }))).toBe(true);
    } finally {
      await app.close();
    }
  });

  it('waits for a slow client instead of buffering the whole stream', async () => {
    let produced = 0;
    const big = 'x'.repeat(64 * 1024);
    const { app, url } = await serve(async function* () {
      for (let i = 0; i < 300; i += 1) {
        produced += 1;
        yield { event: 'message', data: { content: big } };
      }
    });
    try {
      const res = await request(url);
      await new Promise((r) => setTimeout(r, 500));
      // 300 frames are ~20 MB; a client that reads nothing holds the producer after the socket buffers fill.
      expect(produced).toBeLessThan(200);
      let bytes = 0;
      for await (const chunk of res.body) bytes += (chunk as Buffer).length;
      expect(produced).toBe(300);
      expect(bytes).toBe(300 * sseFrame('message', { content: big }).length);
    } finally {
      await app.close();
    }
  });
});
