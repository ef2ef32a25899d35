import { request } from 'undici';
import { startChatStack, type ChatStack } from '../support/chat-fake';
import { waitFor } from '../support/stack';
import { sseEvents } from '../support/sse';

jest.setTimeout(120_000);

const IDLE_TIMEOUT_MS = 30_000;
const STALL_TIMEOUT_MS = 2_000;

/**
 * The chat service restarts in the middle of an AI answer (issue 18): the restarted service knows
 * nothing of the stream, so no chunk comes again. The stream ends with an SSE `error` event once
 * CHAT_STREAM_STALL_TIMEOUT_MS passes without a chunk, long before the idle timeout, and the chat
 * service is told to cancel it.
 */
describe('an AI answer stream across a chat-service restart', () => {
  let stack: ChatStack;
  let token: string;

  beforeAll(async () => {
    stack = await startChatStack(
      {
        CHAT_STREAM_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS),
        CHAT_STREAM_STALL_TIMEOUT_MS: String(STALL_TIMEOUT_MS),
      },
      { tokenDelayMs: 100 },
    );
    ({ token } = await stack.signUp());
  });

  afterAll(async () => {
    await stack?.close();
  });

  function ask(question: string) {
    return request(`${stack.gw.url}/api/conversation/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'gpt-4o', message: [{ content: question }] }),
    });
  }

  it('ends with an SSE error within the stall timeout, not the idle timeout, and cancels upstream', async () => {
    const started = Date.now();
    // About 10 s of answer at a word every 100 ms: the restart cuts it.
    const res = await ask(Array.from({ length: 100 }, (_, i) => `w${i}`).join(' '));
    expect(res.statusCode).toBe(200);
    let body = '';
    const read = (async () => {
      for await (const chunk of res.body) body += (chunk as Buffer).toString();
    })();
    await waitFor('the first answer chunk', async () => body.includes('event: message'), 10_000, 20);
    const requestId = stack.fake.requests('chat_ai_conversation').at(-1)!.envelope.request_id as string;
    await stack.restartFake();
    await read;
    const elapsed = Date.now() - started;

    const { names, last } = sseEvents(body);
    expect(names[0]).toBe('userMessageId');
    expect(names.at(-1)).toBe('error');
    expect(names).not.toContain('done');
    expect(last).toEqual({ error: 'The chat service stopped answering' });
    expect(elapsed).toBeLessThan(IDLE_TIMEOUT_MS);
    await waitFor('chat_cancel at the restarted service', async () => stack.fake.cancelled.has(requestId), 10_000);

    // The restarted service answers a new stream to its end.
    stack.fake.set({ tokenDelayMs: 0 });
    const again = await ask('hello again');
    expect(sseEvents(await again.body.text()).names.at(-1)).toBe('done');
  });
});
