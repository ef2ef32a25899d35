import { connect, type Socket } from 'node:net';
import { request } from 'undici';
import { GAP_MESSAGE } from '../../src/chat/stream';
import { startChatStack, type ChatStack } from '../support/chat-fake';
import { stackService, waitFor } from '../support/stack';
import { sseEvents } from '../support/sse';

jest.setTimeout(180_000);

const GAP_TIMEOUT_MS = 2_000;
const WRITE_TIMEOUT_MS = 1_500;

describe('AI answer streams under faults', () => {
  let stack: ChatStack;
  let user: { token: string; sub: string };

  beforeAll(async () => {
    stack = await startChatStack({
      CHAT_STREAM_IDLE_TIMEOUT_MS: '30000',
      CHAT_STREAM_GAP_TIMEOUT_MS: String(GAP_TIMEOUT_MS),
      SSE_WRITE_TIMEOUT_MS: String(WRITE_TIMEOUT_MS),
      CHAT_STREAMS_PER_USER: '1',
    });
    user = await stack.signUp();
  });

  afterEach(() => stack.fake.reset());

  afterAll(async () => {
    await stackService('start', 'kafka');
    await stack?.close();
  });

  async function ask(question: string) {
    return request(`${stack.gw.url}/api/conversation/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'gpt-4o', message: [{ content: question }] }),
    });
  }

  const lastStreamId = () => stack.fake.requests('chat_ai_conversation').at(-1)!.envelope.request_id as string;

  it.each(['skip', 'garble'] as const)(
    'ends with an error event within the gap timeout when a chunk is lost (%s)',
    async (mode) => {
      stack.fake.set({ chunkFault: { sequence: 2, mode } });
      const started = Date.now();
      const res = await ask('one two three four five');
      expect(res.statusCode).toBe(200);
      const body = await res.body.text();
      const elapsed = Date.now() - started;

      const { names, last } = sseEvents(body);
      // userMessageId (0) and the first token (1) went out; 2 never came, so 3.. are not shown.
      expect(names).toEqual(['userMessageId', 'message', 'error']);
      expect(last).toEqual({ error: GAP_MESSAGE });
      // Bounded by the gap timeout, well before the idle timeout (30 s).
      expect(elapsed).toBeLessThan(GAP_TIMEOUT_MS + 8_000);
      const requestId = lastStreamId();
      await waitFor('chat_cancel', async () => stack.fake.cancelled.has(requestId), 10_000);
    },
  );

  it('closes a client that stops reading within the write timeout, cancels upstream and frees the slot', async () => {
    // ~13 MB of frames: more than the socket buffers of a client that never reads.
    // Still streaming when the gateway gives up on the client (the fake stops at chat_cancel).
    stack.fake.set({ chunkPadBytes: 64 * 1024, tokenDelayMs: 40 });
    const question = Array.from({ length: 200 }, (_, i) => `w${i}`).join(' ');
    const body = JSON.stringify({ name: 'gpt-4o', message: [{ content: question }] });
    const { hostname, port } = new URL(stack.gw.url);
    const before = stack.fake.requests('chat_ai_conversation').length;
    const socket: Socket = connect({ host: hostname, port: Number(port) });
    socket.pause();
    let ended = false;
    socket.on('close', () => (ended = true));
    socket.on('error', () => undefined);
    socket.write(
      `POST /api/conversation/ HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${user.token}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    await waitFor(
      'the stream request',
      async () => stack.fake.requests('chat_ai_conversation').length > before,
      10_000,
    );
    const requestId = lastStreamId();

    // The gateway gives up on the stalled write and tells the chat service, while the client still reads
    // nothing: within the fake's streaming time (~8 s) plus the write timeout.
    await waitFor('chat_cancel of the stalled stream', async () => stack.fake.cancelled.has(requestId), 30_000);

    // What the client can still read is a cut-off stream: no `done` at its end, then the connection ends.
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (received = (received + d).slice(-256)));
    socket.resume();
    // Keep-alive: only the gateway closing the connection ends it.
    await waitFor('the connection to end', async () => ended, 30_000);
    expect(received).not.toContain('event: done');

    // The per-user slot (CHAT_STREAMS_PER_USER=1) is free again.
    stack.fake.reset();
    const next = await ask('after the stall');
    expect(next.statusCode).toBe(200);
    expect(sseEvents(await next.body.text()).names.at(-1)).toBe('done');
  });

  it('answers 503 upstream_unavailable with Retry-After before any SSE byte when Kafka is down', async () => {
    await stackService('stop', 'kafka');
    try {
      await waitFor('the chat link to go down', async () => !stack.gw.deps.chat.isReady, 60_000);
      const res = await ask('anyone there');
      const text = await res.body.text();
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['retry-after']).toEqual(expect.any(String));
      const error = JSON.parse(text) as Record<string, unknown>;
      expect(error).toEqual({
        detail: expect.any(String),
        code: 'upstream_unavailable',
        request_id: res.headers['x-request-id'],
      });
    } finally {
      await stackService('start', 'kafka');
    }
  });
});
