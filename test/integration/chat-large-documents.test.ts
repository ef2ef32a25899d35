import { startChatStack, type ChatStack } from '../support/chat-fake';
import { call } from '../support/gateway';

jest.setTimeout(120_000);

const MiB = 1024 * 1024;

/**
 * Documents may be 25 MiB (gateway-http.md, Validation): they must cross the broker, the topic,
 * the gateway's producer and the chat service's consumer whole (issue 13, "25 MiB documents").
 */
describe('large documents through the gateway, the real broker and the chat-service fake', () => {
  let stack: ChatStack;
  let user: { token: string; sub: string };

  beforeAll(async () => {
    stack = await startChatStack();
    user = await stack.signUp('Big Files');
  });

  afterAll(async () => {
    await stack?.close();
  });

  /** A JSON upload body of exactly `bodyBytes` bytes; returns it with the file's size. */
  function uploadBody(bodyBytes: number): { body: string; fileBytes: number } {
    const head = '{"title":"big","file":"data:application/octet-stream;base64,';
    const tail = '"}';
    const base64Chars = Math.floor((bodyBytes - head.length - tail.length) / 4) * 4;
    const padding = bodyBytes - head.length - tail.length - base64Chars;
    // The pattern allows whitespace in the base64 text: pad with spaces to hit the size exactly.
    const body = `${head}${'QUJD'.repeat(base64Chars / 4)}${' '.repeat(padding)}${tail}`;
    return { body, fileBytes: (base64Chars / 4) * 3 };
  }

  async function upload(body: string) {
    const res = await call(stack.gw.url, 'POST', '/api/chat/embedding_document/', {
      token: user.token,
      headers: { 'content-type': 'application/json' },
      raw: body,
      headersTimeout: 60_000,
    });
    return { status: res.status, requestId: res.headers['x-request-id'], body: res.body as Record<string, unknown> };
  }

  it.each([
    ['1.5 MiB', 1.5 * MiB],
    ['24 MiB', 24 * MiB],
  ])('stores a %s document whole', async (_label, size) => {
    const { body, fileBytes } = uploadBody(size);
    expect(Buffer.byteLength(body)).toBe(size);
    const res = await upload(body);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ title: 'big', document_id: expect.any(Number) });
    expect(stack.fake.store.documentBytes(user.sub, res.body.document_id as number)).toBe(fileBytes);
  });

  it('refuses a body of 25 MiB + 1 byte with 413 in the error format', async () => {
    const { body } = uploadBody(25 * MiB + 1);
    expect(Buffer.byteLength(body)).toBe(25 * MiB + 1);
    const res = await upload(body);
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ detail: expect.any(String), code: 'payload_too_large', request_id: res.requestId });
  });
});
