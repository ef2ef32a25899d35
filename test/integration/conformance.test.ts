import { randomUUID } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { errorCodes } from 'fastify';
import { clientErrorHandler } from '../../src/api/framework-errors';
import { startChatStack, type ChatStack } from '../support/chat-fake';
import { call as callGateway, startGateway, type CallOptions, type Res } from '../support/gateway';

jest.setTimeout(90_000);

const REQUEST_ID = /^[0-9a-f-]{36}$/;

/** The one error format (gateway-http.md, Errors), X-Request-Id included. */
function expectErrorFormat(res: Res, status: number, code: string) {
  expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
  expect(res.body).toEqual(
    expect.objectContaining({ detail: expect.any(String), code, request_id: expect.stringMatching(/./) }),
  );
  expect(res.headers['x-request-id']).toBe(res.body.request_id);
  expect(String(res.headers['content-type'])).toContain('application/json');
}

/** A raw HTTP exchange, for requests undici will not send (malformed, oversized headers). */
function raw(port: number, text: string): Promise<Res> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let data = '';
    socket.on('data', (chunk) => (data += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve(parseRaw(data)));
  });
}

function parseRaw(data: string): Res {
  const [head = '', body = ''] = data.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(
    lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
  );
  return { status: Number(statusLine.split(' ')[1]), headers, body: body ? JSON.parse(body) : undefined, text: body };
}

describe('conformance: strict with clients, idempotent writes, one error format', () => {
  let stack: ChatStack;
  let alice: { token: string; sub: string };
  let bob: { token: string; sub: string };

  beforeAll(async () => {
    stack = await startChatStack({ CHAT_REQUEST_TIMEOUT_MS: '1500', BODY_LIMIT_BYTES: '2048' });
    alice = await stack.signUp('Alice');
    bob = await stack.signUp('Bob');
  });

  afterEach(() => stack.fake.reset());

  afterAll(async () => {
    await stack?.close();
  });

  const call = (method: string, path: string, opts?: CallOptions) => stack.call(method, path, opts);

  describe('client bodies are never coerced', () => {
    const org = randomUUID();
    const cases: [string, string, unknown, string][] = [
      ['PATCH', '/v1/client/update', { full_name: 123 }, 'full_name'],
      ['POST', '/v1/org', { name: 12 }, 'name'],
      ['PATCH', `/v1/org/${org}/member/${randomUUID()}/role`, { role: ['admin'] }, 'role'],
      ['POST', '/v1/client/sign-in/password', { email: 'a@example.test', password: 12345678 }, 'password'],
      ['POST', '/api/chat/conversations/', { topic: 5 }, 'topic'],
      ['POST', '/api/chat/messages/', { conversation: '1', message: 'x' }, 'conversation'],
      ['POST', '/api/chat/messages/', { conversation: 1, message: 'x', is_bot: 'true' }, 'is_bot'],
      ['POST', '/api/chat/prompts/', { title: ['a'], content: 'x' }, 'title'],
      ['PUT', '/api/chat/prompts/1/', { title: true }, 'title'],
      ['POST', '/api/gen_title/', { conversationId: '1' }, 'conversationId'],
      ['POST', '/api/chat/embedding_document/', { title: 7, file: 'data:text/plain;base64,aGk=' }, 'title'],
    ];
    it.each(cases)('%s %s %j → 422 naming the field', async (method, path, body, field) => {
      const res = await call(method, path, { token: alice.token, body });
      expectErrorFormat(res, 422, 'validation_error');
      expect(res.body.errors).toEqual(expect.arrayContaining([{ field, message: expect.any(String) }]));
    });

    it('still parses query strings and path parameters from text', async () => {
      const res = await call('GET', '/api/chat/conversations/?limit=2&offset=0', { token: alice.token });
      expect(res.status).toBe(200);
      const missing = await call('GET', '/api/chat/prompts/987654/', { token: alice.token });
      expectErrorFormat(missing, 404, 'not_found');
    });
  });

  describe('Idempotency-Key on every POST/PATCH/DELETE', () => {
    it('returns the first 201 to a retried POST /v1/org, refuses another body, and scopes keys to the caller', async () => {
      const key = randomUUID();
      const name = `Acme ${randomUUID()}`;
      const headers = { 'idempotency-key': key };
      const first = await call('POST', '/v1/org', { token: alice.token, body: { name }, headers });
      const retry = await call('POST', '/v1/org', { token: alice.token, body: { name }, headers });
      expect([first.status, retry.status]).toEqual([201, 201]);
      expect(retry.body).toEqual(first.body);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(stack.auth.callsTo({ method: 'POST', path: '/v1/org' })).toHaveLength(1);

      const other = await call('POST', '/v1/org', { token: alice.token, body: { name: `${name} 2` }, headers });
      expectErrorFormat(other, 422, 'validation_error');

      // A replayed error carries the retry's own request id (found by the fuzz test).
      const bad = { 'idempotency-key': randomUUID() };
      const refused = await call('POST', '/v1/client/refresh_token', { body: {}, headers: bad });
      const replayed = await call('POST', '/v1/client/refresh_token', { body: {}, headers: bad });
      expectErrorFormat(refused, 400, 'bad_request');
      expectErrorFormat(replayed, 400, 'bad_request');
      expect(replayed.headers['idempotent-replayed']).toBe('true');

      const bobs = await call('POST', '/v1/org', { token: bob.token, body: { name: `${name} (Bob)` }, headers });
      expect(bobs.status).toBe(201);
      expect(bobs.body.org_id).not.toBe(first.body.org_id);
    });

    it('replays a chat create and a DELETE instead of applying them twice', async () => {
      const headers = { 'idempotency-key': randomUUID() };
      const first = await call('POST', '/api/chat/conversations/', {
        token: bob.token,
        body: { topic: 'Once' },
        headers,
      });
      const retry = await call('POST', '/api/chat/conversations/', {
        token: bob.token,
        body: { topic: 'Once' },
        headers,
      });
      expect([first.status, retry.status]).toEqual([201, 201]);
      expect(retry.body).toEqual(first.body);
      expect(stack.fake.requests('chat_create_conversation').filter((r) => r.key?.startsWith('idem-'))).toHaveLength(1);

      const path = `/api/chat/conversations/${first.body.conversation_id}/`;
      const deleteHeaders = { 'idempotency-key': randomUUID() };
      const deleted = await call('DELETE', path, { token: bob.token, headers: deleteHeaders });
      const again = await call('DELETE', path, { token: bob.token, headers: deleteHeaders });
      expect([deleted.status, again.status]).toEqual([204, 204]);
      expect(again.headers['idempotent-replayed']).toBe('true');
      const withoutKey = await call('DELETE', path, { token: bob.token });
      expectErrorFormat(withoutKey, 404, 'not_found');
    });

    it('sends a retry after a 504 as the same chat request, so it is applied once', async () => {
      const { token } = await stack.signUp('Retry');
      const headers = { 'idempotency-key': randomUUID() };
      stack.fake.set({ delayMs: 2_500, operations: ['chat_create_conversation'] });
      const timedOut = await call('POST', '/api/chat/conversations/', { token, body: { topic: 'Slow' }, headers });
      expectErrorFormat(timedOut, 504, 'upstream_timeout');
      stack.fake.reset();
      await new Promise((r) => setTimeout(r, 1_500));
      const retry = await call('POST', '/api/chat/conversations/', { token, body: { topic: 'Slow' }, headers });
      expect(retry.status).toBe(201);
      const ids = new Set(
        stack.fake
          .requests('chat_create_conversation')
          .slice(-2)
          .map((r) => r.key),
      );
      expect(ids.size).toBe(1);
      const list = await call('GET', '/api/chat/conversations/', { token });
      expect(list.body).toHaveLength(1);
    });
  });

  describe('framework errors in the error format', () => {
    const port = () => Number(new URL(stack.gw.url).port);

    /** Each Fastify error a client can cause, and how; every other code is named below with why it cannot be. */
    const REACHABLE: Record<string, [number, string, () => Promise<Res>]> = {
      FST_ERR_NOT_FOUND: [404, 'not_found', () => call('GET', '/nowhere')],
      FST_ERR_VALIDATION: [422, 'validation_error', () => call('POST', '/v1/org', { token: alice.token, body: {} })],
      FST_ERR_CTP_BODY_TOO_LARGE: [
        413,
        'payload_too_large',
        () => call('POST', '/v1/org', { token: alice.token, body: { name: 'x'.repeat(4096) } }),
      ],
      FST_ERR_CTP_INVALID_MEDIA_TYPE: [
        415,
        'unsupported_media_type',
        () => call('POST', '/v1/org', { token: alice.token, raw: '<org/>', headers: { 'content-type': 'text/xml' } }),
      ],
      FST_ERR_CTP_EMPTY_JSON_BODY: [
        400,
        'bad_request',
        () => call('POST', '/v1/org', { token: alice.token, raw: '', headers: { 'content-type': 'application/json' } }),
      ],
      FST_ERR_CTP_INVALID_JSON_BODY: [
        400,
        'bad_request',
        () =>
          call('POST', '/v1/org', {
            token: alice.token,
            raw: '{"name":',
            headers: { 'content-type': 'application/json' },
          }),
      ],
      FST_ERR_BAD_URL: [400, 'bad_request', () => call('GET', '/api/chat/prompts/%E0%A4%A/', { token: alice.token })],
    };
    const UNREACHABLE: [RegExp, string][] = [
      [
        /^FST_ERR_MAX_PARAM_LENGTH$/,
        "the route table's catch-all takes a path whose parameter is too long for its route (404, tested below)",
      ],
      [/^FST_ERR_CTP_INVALID_CONTENT_LENGTH$/, "Node's HTTP parser enforces Content-Length before Fastify reads"],
      [/^FST_ERR_ASYNC_CONSTRAINT$/, 'no async route constraints are used'],
      [/^FST_ERR_HANDLER_TIMEOUT$/, 'handlerTimeout is not set; request timeouts are Node’s (408 below)'],
      [
        /^FST_ERR_(REP|SEND|BAD_STATUS|BAD_TRAILER|FAILED_ERROR|MISSING_SERIALIZATION|MISSING_CONTENTTYPE|REQ_INVALID)/,
        'a handler bug, answered as 500 internal by the error handler (the fuzz test looks for them)',
      ],
      [
        /^FST_ERR_(OPTIONS|QSP|SCHEMA|AJV|LISTEN|ERROR_HANDLER|CTP_|DEC|HOOK|MISSING_MIDDLEWARE|LOG|SCH|INIT|FORCE|DUPLICATED|INVALID_URL|ROUTE|REOPENED|INSTANCE|PLUGIN|ROOT|PARENT)/,
        'raised while the app is built or started, never by a request',
      ],
    ];

    it('knows every Fastify error code: reachable ones are triggered below, the others say why not', () => {
      const unclassified = Object.keys(errorCodes).filter(
        (code) => !(code in REACHABLE) && !UNREACHABLE.some(([pattern]) => pattern.test(code)),
      );
      expect(unclassified).toEqual([]);
    });

    it.each(Object.keys(REACHABLE))('%s → the error format', async (code) => {
      const [status, errorCode, trigger] = REACHABLE[code]!;
      expectErrorFormat(await trigger(), status, errorCode);
    });

    it('answers an over-long path parameter with 404 in the error format (the route table does not know it)', async () => {
      const res = await call('GET', `/v1/org/${'a'.repeat(150)}/members`, { token: alice.token });
      expectErrorFormat(res, 404, 'not_found');
    });

    it('answers a multipart body without a boundary with 400 (found by the fuzz test)', async () => {
      const res = await call('POST', '/api/chat/embedding_document/', {
        token: alice.token,
        raw: 'zzzz',
        headers: { 'content-type': 'multipart/form-data' },
      });
      expectErrorFormat(res, 400, 'bad_request');
    });

    it('refuses a document upload without any body with 422 (found by the fuzz test)', async () => {
      const res = await call('POST', '/api/chat/embedding_document/', { token: alice.token });
      expectErrorFormat(res, 422, 'validation_error');
      expect(res.body.errors).toEqual([{ field: 'body', message: 'is required' }]);
    });

    it('refuses CORS preflights in the format: not a preflight 400, an unknown origin 403', async () => {
      const bare = await call('OPTIONS', '/v1/org', { headers: { origin: 'http://app.test' } });
      expectErrorFormat(bare, 400, 'bad_request');
      const foreign = await call('OPTIONS', '/v1/org', {
        headers: { origin: 'http://evil.test', 'access-control-request-method': 'POST' },
      });
      expectErrorFormat(foreign, 403, 'forbidden');
    });

    it('answers a wrong method with 405 and Allow', async () => {
      const res = await call('DELETE', '/v1/org', { token: alice.token });
      expectErrorFormat(res, 405, 'method_not_allowed');
      expect(res.headers.allow).toContain('POST');
    });

    it('answers header overflow (431) and malformed requests (400) from the HTTP parser in the format', async () => {
      const big = await raw(port(), `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      expectErrorFormat(big, 431, 'header_too_large');
      expect(big.body.request_id).toMatch(REQUEST_ID);
      const garbage = await raw(port(), 'NOT HTTP AT ALL\r\n\r\n');
      expectErrorFormat(garbage, 400, 'bad_request');
    });

    it('answers a request timeout (408) in the format', async () => {
      // Node checks request timeouts only every 30 s: the handler gets the error Node would give it.
      const server = createServer((socket: Socket) => {
        socket.on('error', () => undefined);
        clientErrorHandler(Object.assign(new Error('timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }), socket);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      try {
        const res = await raw((server.address() as AddressInfo).port, '');
        expectErrorFormat(res, 408, 'request_timeout');
      } finally {
        server.close();
      }
    });
  });

  it('sheds load with 503 overloaded + Retry-After in the format, and liveness still answers', async () => {
    const gw = await startGateway({ ...stack.config, LOAD_SHED_MAX_HEAP_USED_BYTES: 1 });
    try {
      let res: Res | undefined;
      for (let i = 0; i < 80 && res?.status !== 503; i++) {
        await new Promise((r) => setTimeout(r, 100));
        res = await callGateway(gw.url, 'GET', '/v1/client/me', { token: alice.token });
      }
      expectErrorFormat(res!, 503, 'overloaded');
      expect(res!.headers['retry-after']).toBe('2');
      expect((await callGateway(gw.url, 'GET', '/health/live')).status).toBe(200);
    } finally {
      await gw.close();
    }
  });
});
