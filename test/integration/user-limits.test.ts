import { connect } from 'node:net';
import { request } from 'undici';
import { call, expectError } from '../support/gateway';
import { startChatStack, type ChatStack } from '../support/chat-fake';
import { waitFor } from '../support/stack';

jest.setTimeout(120_000);

const MiB = 2 ** 20;

/** The first bytes the gateway writes back on a raw connection (until `until` matches or it closes). */
function rawExchange(port: number, head: string, until: RegExp, body?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let seen = '';
    let bodySent = false;
    socket.on('data', (chunk: Buffer) => {
      seen += chunk.toString('latin1');
      if (body !== undefined && !bodySent && /^HTTP\/1\.1 100 /.test(seen)) {
        bodySent = true;
        socket.write(body);
      }
      if (until.test(seen)) {
        socket.destroy();
        resolve(seen);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(seen));
    socket.write(head);
  });
}

describe('upload, stream and per-user limits', () => {
  let s: ChatStack;
  let port: number;

  beforeAll(async () => {
    s = await startChatStack({
      UPLOAD_CONCURRENCY_PER_USER: '2',
      UPLOAD_CONCURRENCY_PER_PROCESS: '3',
      CHAT_STREAMS_PER_USER: '4',
      RATE_LIMIT_AUTH_PER_ACCOUNT: '3',
      RATE_LIMIT_AUTH_PER_IP: '5',
    });
    port = Number(new URL(s.gw.url).port);
  });

  afterAll(async () => {
    await s?.close();
  });

  afterEach(() => s.fake.reset());

  const upload = (token: string, file = 'data:text/plain;base64,aGVsbG8=') =>
    call(s.gw.url, 'POST', '/api/chat/embedding_document/', { token, body: { title: 'doc', file } });

  it.each([
    ['25 MiB of parameters (a regex stack overflow before)', 'data:a/b' + ';a'.repeat(12 * MiB) + '!'],
    ['25 MiB of data ending in a foreign character', 'data:a/b;base64,' + 'A'.repeat(25 * MiB - 200) + '!'],
  ])('a crafted data URL of %s → 422 within a second, never a 500', async (_name, file) => {
    const { token } = await s.signUp();
    const timed = async (value: string) => {
      const started = Date.now();
      const res = await upload(token, value);
      return { res, ms: Date.now() - started };
    };
    // Same size, refused at its first character: what sending and parsing 25 MiB costs here.
    const control = await timed('x'.repeat(file.length));
    const crafted = await timed(file);
    for (const { res } of [control, crafted]) {
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('validation_error');
      expect(res.body.errors).toEqual([{ field: 'file', message: expect.any(String) }]);
    }
    // The old pattern spent seconds on these before overflowing (500); the check is one bounded scan.
    expect(crafted.ms - control.ms).toBeLessThan(1000);
    expect(s.fake.requests('chat_upload_document')).toHaveLength(0);
  });

  it('uploads beyond the per-user bound → 429, beyond the process bound → 503, both with Retry-After; the rest succeed', async () => {
    s.fake.set({ delayMs: 1500, operations: ['chat_upload_document'] });
    const a = await s.signUp('Uploader A');
    const b = await s.signUp('Uploader B');
    const first = [upload(a.token), upload(a.token)];
    await waitFor('two uploads at the chat fake', async () => s.fake.requests('chat_upload_document').length >= 2);

    const overUser = await upload(a.token);
    expectError(overUser, 429, 'rate_limited');
    expect(Number(overUser.headers['retry-after'])).toBeGreaterThan(0);

    const third = upload(b.token);
    await waitFor('three uploads at the chat fake', async () => s.fake.requests('chat_upload_document').length >= 3);
    const overProcess = await upload(b.token);
    expectError(overProcess, 503, 'upstream_unavailable');
    expect(Number(overProcess.headers['retry-after'])).toBeGreaterThan(0);

    for (const res of await Promise.all([...first, third])) expect(res.status).toBe(201);
    expect(s.fake.requests('chat_upload_document')).toHaveLength(3);
    // Slots are given back when the responses end.
    expect((await upload(a.token)).status).toBe(201);
  });

  it('the 5th concurrent answer stream of one user → 429 before any SSE byte; other users are not limited', async () => {
    s.fake.set({ delayMs: 1500, operations: ['chat_ai_conversation'] });
    const a = await s.signUp('Streamer A');
    const b = await s.signUp('Streamer B');
    const stream = (token: string) =>
      request(`${s.gw.url}/api/conversation/`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'gpt-4o', message: [{ content: 'hello' }] }),
      });
    const open = await Promise.all([1, 2, 3, 4].map(() => stream(a.token)));
    for (const res of open) expect(res.statusCode).toBe(200);

    const fifth = await stream(a.token);
    expect(fifth.statusCode).toBe(429);
    expect(String(fifth.headers['content-type'])).toContain('application/json');
    expect(Number(fifth.headers['retry-after'])).toBeGreaterThan(0);
    expect(await fifth.body.json()).toEqual({
      detail: expect.any(String),
      code: 'rate_limited',
      request_id: fifth.headers['x-request-id'],
    });

    const other = await stream(b.token);
    expect(other.statusCode).toBe(200);
    for (const res of [...open, other]) expect(await res.body.text()).toContain('event: done');
    const again = await stream(a.token);
    expect(again.statusCode).toBe(200);
    await again.body.text();
  });

  it('Expect: 100-continue without a token → 401 and never a 100; with a token → 100, then the answer', async () => {
    const body = JSON.stringify({ title: 'doc', file: 'data:text/plain;base64,aGVsbG8=' });
    const head = (auth: string) =>
      'POST /api/chat/embedding_document/ HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n${auth}\r\n`;

    const refused = await rawExchange(port, head(''), /\r\n\r\n[\s\S]*\}/);
    expect(refused).toMatch(/^HTTP\/1\.1 401 /);
    expect(refused).not.toContain('100 Continue');
    expect(refused).toContain('"code":"unauthorized"');

    const { token } = await s.signUp();
    const accepted = await rawExchange(
      port,
      head(`Authorization: Bearer ${token}\r\n`),
      /HTTP\/1\.1 201 [\s\S]*\}/,
      body,
    );
    expect(accepted).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 201 /);
  });

  it('Expect: 100-continue on a GET (no body to read) → the final answer, never a 100', async () => {
    const { token } = await s.signUp();
    const me = await rawExchange(
      port,
      `GET /v1/client/me HTTP/1.1\r\nHost: gateway\r\nExpect: 100-continue\r\nAuthorization: Bearer ${token}\r\n\r\n`,
      /\r\n\r\n[\s\S]*\}/,
    );
    expect(me).toMatch(/^HTTP\/1\.1 200 /);
    expect(me).not.toContain('100 Continue');
    expect(me).toContain('"email"');
  });

  it('the public settings are cached: many anonymous requests within CHAT_SETTINGS_CACHE_MS → one chat request', async () => {
    const before = s.fake.requests('chat_get_settings').length;
    const answers = await Promise.all(Array.from({ length: 20 }, () => call(s.gw.url, 'GET', '/api/chat/settings/')));
    for (let i = 0; i < 5; i++) answers.push(await call(s.gw.url, 'GET', '/api/chat/settings/'));
    for (const res of answers) {
      expect(res.status).toBe(200);
      expect(res.body).toEqual(answers[0]!.body);
    }
    expect(Array.isArray(answers[0]!.body)).toBe(true);
    expect(s.fake.requests('chat_get_settings').length - before).toBe(1);
  });

  it.each([
    ['SQL and driver text', 'psycopg2.errors.UniqueViolation: duplicate key value violates unique constraint'],
    ['a stack trace', 'Traceback (most recent call last):\n  File "/app/prompts.py", line 12'],
    ['an over-long message', 'x'.repeat(400)],
  ])('a chat 4xx detail carrying %s is replaced by a generic one', async (_name, message) => {
    const { token } = await s.signUp();
    s.fake.set({ error: { code: 'conflict', message }, operations: ['chat_create_prompt'] });
    const res = await call(s.gw.url, 'POST', '/api/chat/prompts/', { token, body: { title: 't', content: 'c' } });
    expectError(res, 409, 'conflict');
    expect(res.body.detail).toBe('Conflict');
  });

  it('a short, plain chat 4xx detail still reaches the client', async () => {
    const { token } = await s.signUp();
    s.fake.set({
      error: { code: 'conflict', message: 'A prompt with this title exists' },
      operations: ['chat_create_prompt'],
    });
    const res = await call(s.gw.url, 'POST', '/api/chat/prompts/', { token, body: { title: 't', content: 'c' } });
    expectError(res, 409, 'conflict');
    expect(res.body.detail).toBe('A prompt with this title exists');
  });

  it('UUID params: upper case is accepted and lower-cased; urn:uuid: and unhyphenated forms → 422', async () => {
    const owner = await s.signUp('Org Owner');
    const orgId = s.auth.createOrg(owner.sub, 'Uuid Org').org_id;
    const members = (id: string) => call(s.gw.url, 'GET', `/v1/org/${id}/members`, { token: owner.token });

    const lower = await members(orgId);
    expect(lower.status).toBe(200);
    // The membership check compares ids: without lower-casing, the caller would not be a member.
    const upper = await members(orgId.toUpperCase());
    expect(upper.status).toBe(200);
    expect(upper.body).toEqual(lower.body);
    for (const id of [`urn:uuid:${orgId}`, orgId.replace(/-/g, ''), `{${orgId}}`]) {
      const res = await members(encodeURIComponent(id));
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('validation_error');
    }
  });

  it('invite accept is rate-limited per user and per IP (429 + Retry-After)', async () => {
    const accept = (token: string) =>
      call(s.gw.url, 'POST', '/v1/invite/accept', { token, body: { invite_token: 'no-such-invite' } });
    const c = await s.signUp('Guesser C');
    for (let i = 0; i < 3; i++) expectError(await accept(c.token), 404, 'not_found');
    const limited = await accept(c.token);
    expectError(limited, 429, 'rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);

    // Another user from the same IP: its own limit is 3, the IP's (5) ends it sooner.
    const d = await s.signUp('Guesser D');
    expectError(await accept(d.token), 404, 'not_found');
    const statuses = [(await accept(d.token)).status, (await accept(d.token)).status];
    expect(statuses).toContain(429);
  });
});
