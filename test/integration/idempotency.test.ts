import { randomUUID } from 'node:crypto';
import { idempotencyKeyOf } from '../../src/api/plugins/idempotency';
import { HttpError } from '../../src/errors';
import { IdempotencyStore } from '../../src/idempotency/store';
import { call as callGateway, startGateway, type CallOptions, type Res, type RunningGateway } from '../support/gateway';
import { testConfig } from '../support/stack';

jest.setTimeout(60_000);

let gateway: RunningGateway;
let calls = 0;
let failuresLeft = 0;
/** Handlers given `wait: name` signal that they started, then hold until the gate opens. */
const gates = new Map<string, { open: () => void; opened: Promise<void>; entered: Promise<void>; enter: () => void }>();

function gate(name: string) {
  let open = () => undefined as void;
  let enter = () => undefined as void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const entered = new Promise<void>((resolve) => (enter = resolve));
  const g = { open, opened, entered, enter };
  gates.set(name, g);
  return g;
}

/** A call to the test gateway, with `key` as its Idempotency-Key. */
function call(method: string, path: string, { key, ...opts }: CallOptions & { key?: string } = {}): Promise<Res> {
  const headers = key === undefined ? opts.headers : { ...opts.headers, 'idempotency-key': key };
  return callGateway(gateway.url, method, path, { ...opts, headers });
}

const thingSchema = {
  body: {
    type: 'object',
    required: ['name'],
    properties: { name: { type: 'string' }, wait: { type: 'string' } },
  },
};

beforeAll(async () => {
  const config = testConfig({ OUTBOX_RELAY_ENABLED: 'false' });
  gateway = await startGateway(config, (app) => {
    app.post<{ Params: { list: string }; Body: { name: string; wait?: string } }>(
      '/test/lists/:list/things',
      { config: { idempotent: true }, schema: thingSchema },
      async (request, reply) => {
        calls++;
        const held = request.body.wait ? gates.get(request.body.wait) : undefined;
        if (held) {
          held.enter();
          await held.opened;
        }
        void reply.header('location', `/test/lists/${request.params.list}/things/${calls}`);
        return reply.code(201).send({ id: calls, list: request.params.list, name: request.body.name });
      },
    );
    app.get('/test/lists/:list/things', { config: { idempotent: true } }, async () => {
      calls++;
      return { calls };
    });
    app.delete('/test/lists/:list', { config: { idempotent: true } }, async (_request, reply) => {
      calls++;
      return reply.code(204).send();
    });
    app.post('/test/flaky', { config: { idempotent: true } }, async () => {
      calls++;
      if (failuresLeft > 0) {
        failuresLeft--;
        throw new HttpError('upstream_unavailable', 'auth service is down');
      }
      return { ok: true, calls };
    });
    app.post('/test/not-opted-in', async () => {
      calls++;
      return { calls };
    });
    app.post('/test/opted-out', { config: { idempotent: false } }, async () => {
      calls++;
      return { calls };
    });
    app.post('/test/key', { config: { idempotent: true } }, async (request) => ({
      key: idempotencyKeyOf(request) ?? null,
    }));
  });
});

afterAll(async () => {
  for (const g of gates.values()) g.open();
  await gateway?.close();
});

describe('Idempotency-Key', () => {
  it('replays the first answer (status, body, stored headers) to a retry with the same request', async () => {
    const key = randomUUID();
    const before = calls;
    const first = await call('POST', '/test/lists/a/things', { key, body: { name: 'first' } });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ id: before + 1, list: 'a', name: 'first' });
    expect(first.headers['idempotent-replayed']).toBeUndefined();

    const retry = await call('POST', '/test/lists/a/things', {
      key,
      body: { name: 'first' },
      headers: { 'x-request-id': 'retry-1' },
    });
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.headers.location).toBe(first.headers.location);
    expect(retry.headers['content-type']).toBe(first.headers['content-type']);
    expect(retry.headers['x-request-id']).toBe('retry-1');
    expect(calls).toBe(before + 1);

    // Unknown fields are dropped by the schema, so they do not make it a different request.
    const again = await call('POST', '/test/lists/a/things', { key, body: { name: 'first', extra: 1 } });
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(calls).toBe(before + 1);
  });

  it('answers 422 when the key was used with a different body or target', async () => {
    const key = randomUUID();
    expect((await call('POST', '/test/lists/a/things', { key, body: { name: 'one' } })).status).toBe(201);
    const before = calls;

    const otherBody = await call('POST', '/test/lists/a/things', { key, body: { name: 'two' } });
    expect(otherBody.status).toBe(422);
    expect(otherBody.body).toMatchObject({ code: 'validation_error', detail: expect.any(String) });
    expect(otherBody.body.errors).toEqual([{ field: 'Idempotency-Key', message: expect.any(String) }]);

    const otherList = await call('POST', '/test/lists/b/things', { key, body: { name: 'one' } });
    expect(otherList.status).toBe(422);
    expect(calls).toBe(before);
  });

  it('answers 409 while the first request is still running, then replays its answer', async () => {
    const key = randomUUID();
    const slow = gate('slow');
    const before = calls;
    const first = call('POST', '/test/lists/a/things', { key, body: { name: 'slow', wait: 'slow' } });
    let concurrent: Res;
    try {
      await slow.entered;
      concurrent = await call('POST', '/test/lists/a/things', { key, body: { name: 'slow', wait: 'slow' } });
    } finally {
      slow.open();
    }
    expect(concurrent.status).toBe(409);
    expect(concurrent.body.code).toBe('conflict');
    expect(concurrent.headers['retry-after']).toBe('1');

    const done = await first;
    expect(done.status).toBe(201);
    const replay = await call('POST', '/test/lists/a/things', { key, body: { name: 'slow', wait: 'slow' } });
    expect(replay.status).toBe(201);
    expect(replay.body).toEqual(done.body);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(calls).toBe(before + 1);
  });

  it('answers 400 to a key that is empty, too long or not printable ASCII', async () => {
    for (const key of ['', 'k'.repeat(256), 'clé-\u00e9']) {
      const res = await call('POST', '/test/lists/a/things', { key, body: { name: 'x' } });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'bad_request', detail: expect.any(String) });
    }
    const longest = await call('POST', '/test/lists/a/things', { key: 'k'.repeat(255), body: { name: 'x' } });
    expect(longest.status).toBe(201);
  });

  it('leaves GET alone and honours the key on every POST without opting in', async () => {
    const key = randomUUID();
    const before = calls;
    const a = await call('GET', '/test/lists/a/things', { key });
    const b = await call('GET', '/test/lists/a/things', { key });
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(b.body.calls).toBe(a.body.calls + 1);
    expect(b.headers['idempotent-replayed']).toBeUndefined();

    const c = await call('POST', '/test/not-opted-in', { key, body: {} });
    const d = await call('POST', '/test/not-opted-in', { key, body: {} });
    expect(d.body.calls).toBe(c.body.calls);
    expect(d.headers['idempotent-replayed']).toBe('true');
    expect(calls).toBe(before + 3);
  });

  it('refuses the key with 422 on a route that says it cannot honour it', async () => {
    const refused = await call('POST', '/test/opted-out', { key: randomUUID(), body: {} });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({
      code: 'validation_error',
      errors: [{ field: 'Idempotency-Key', message: expect.any(String) }],
    });
    const without = await call('POST', '/test/opted-out', { body: {} });
    expect(without.status).toBe(200);
  });

  it('replays a 204 without a body', async () => {
    const key = randomUUID();
    const before = calls;
    const first = await call('DELETE', '/test/lists/a', { key });
    const retry = await call('DELETE', '/test/lists/a', { key });
    expect([first.status, retry.status]).toEqual([204, 204]);
    expect(retry.text).toBe('');
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(calls).toBe(before + 1);
  });

  it('does not store a 5xx answer: the retry runs again', async () => {
    const key = randomUUID();
    failuresLeft = 1;
    const failed = await call('POST', '/test/flaky', { key, body: {} });
    expect(failed.status).toBe(503);
    const retry = await call('POST', '/test/flaky', { key, body: {} });
    expect(retry.status).toBe(200);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    const replay = await call('POST', '/test/flaky', { key, body: {} });
    expect(replay.body).toEqual(retry.body);
    expect(replay.headers['idempotent-replayed']).toBe('true');
  });

  it('scopes keys to the caller: the same key from another caller is a new request', async () => {
    const key = randomUUID();
    const before = calls;
    const alice = await call('POST', '/test/lists/a/things', {
      key,
      body: { name: 'n' },
      headers: { authorization: 'Bearer alice' },
    });
    const bob = await call('POST', '/test/lists/a/things', {
      key,
      body: { name: 'n' },
      headers: { authorization: 'Bearer bob' },
    });
    expect([alice.status, bob.status]).toEqual([201, 201]);
    expect(bob.headers['idempotent-replayed']).toBeUndefined();
    expect(calls).toBe(before + 2);
  });

  it('ignores and purges expired keys', async () => {
    const key = randomUUID();
    const before = calls;
    await call('POST', '/test/lists/a/things', { key, body: { name: 'old' } });
    await gateway.deps.db.execute(
      `update idempotency_keys set expires_at = now() - interval '1 second' where key = $1`,
      [key],
    );

    const after = await call('POST', '/test/lists/a/things', { key, body: { name: 'new body is fine now' } });
    expect(after.status).toBe(201);
    expect(after.headers['idempotent-replayed']).toBeUndefined();
    expect(calls).toBe(before + 2);

    const expired = randomUUID();
    await call('POST', '/test/lists/a/things', { key: expired, body: { name: 'x' } });
    await gateway.deps.db.execute(
      `update idempotency_keys set expires_at = now() - interval '1 second' where key = $1`,
      [expired],
    );
    const store = new IdempotencyStore(gateway.deps.db, { ttlMs: 1000, lockTimeoutMs: 1000, keys: [] });
    expect(await store.purgeExpired()).toBeGreaterThanOrEqual(1);
    const left = await gateway.deps.db.execute<{ key: string }[]>(
      'select key from idempotency_keys where key in ($1, $2)',
      [key, expired],
    );
    expect(left).toEqual([{ key }]);
  });

  it('stores neither the request nor the answer in plain text', async () => {
    const key = randomUUID();
    const secret = `s3cret-${randomUUID()}`;
    await call('POST', '/test/lists/a/things', { key, body: { name: secret } });
    const rows = await gateway.deps.db.execute<
      { state: string; status: number; response: Buffer; request_hash: string; expires_in: number }[]
    >(
      `select state, status, response, request_hash, extract(epoch from expires_at - now())::float8 as expires_in from idempotency_keys where key = $1`,
      [key],
    );
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row).toMatchObject({ state: 'completed', status: 201 });
    expect(row.response.includes(Buffer.from(secret))).toBe(false);
    expect(row.request_hash).toMatch(/^[0-9a-f]{64}$/);
    // IDEMPOTENCY_TTL defaults to 24 h.
    expect(row.expires_in).toBeGreaterThan(23.9 * 3600);
    expect(row.expires_in).toBeLessThanOrEqual(24 * 3600);
  });

  it('gives routes the validated key to derive workflow ids from', async () => {
    expect((await call('POST', '/test/key', { key: 'op-42', body: {} })).body).toEqual({ key: 'op-42' });
    expect((await call('POST', '/test/key', { body: {} })).body).toEqual({ key: null });
  });
});
