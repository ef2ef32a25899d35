import { request } from 'undici';
import { startChatStack, type ChatStack } from '../support/chat-fake';
import { junk, paramValue, prng, valueFor, type JsonSchema, type Rng } from '../support/fuzz';
import { startWorker, uniqueSuffix, type RunningWorker } from '../support/stack';

jest.setTimeout(240_000);

const REQUESTS = 2_000;
const CONCURRENCY = 4;
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
const UPSTREAM_CODES = new Set(['upstream_error', 'upstream_unavailable', 'upstream_timeout', 'overloaded']);

interface Operation {
  method: string;
  path: string;
  secured: boolean;
  body?: JsonSchema;
}

interface Sent {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  validToken: boolean;
  operation?: Operation;
}

/** The routes the app serves, from its own OpenAPI document, plus the hidden ones. */
function operationsOf(doc: {
  paths: Record<string, Record<string, { security?: unknown[]; requestBody?: any }>>;
}): Operation[] {
  const ops: Operation[] = [{ method: 'GET', path: '/metrics', secured: false }];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const content = op.requestBody?.content ?? {};
      ops.push({
        method: method.toUpperCase(),
        path,
        secured: (op.security ?? []).some((s) => Object.keys(s as object).includes('bearer')),
        body: (content['application/json'] ?? content['multipart/form-data'])?.schema,
      });
    }
  }
  return ops;
}

function buildRequest(r: Rng, ops: Operation[], base: string, token: string): Sent {
  const operation = r.chance(0.9) ? r.pick(ops) : undefined;
  let path = operation?.path.replace(/\{[^}]+\}/g, () => paramValue(r)) ?? r.pick(['/', '/v2/x', '/api/', '/.env']);
  if (r.chance(0.05)) path += '/'.repeat(r.int(1, 3)) + 'x'.repeat(r.int(1, 3000));
  if (r.chance(0.2)) path += `?limit=${r.pick(['5', '-1', 'abc', '1e3', ''])}&offset=${r.int(-2, 9)}`;
  const method = operation && r.chance(0.75) ? operation.method : r.pick(METHODS);

  const headers: Record<string, string> = {};
  const auth = r.int(0, 5);
  const validToken = auth <= 2;
  if (validToken) headers.authorization = `Bearer ${token}`;
  else if (auth === 3) headers.authorization = r.pick(['Bearer junk', 'Basic Zm9vOmJhcg==', 'Bearer ', 'bearer a.b.c']);
  else if (auth === 4) headers.cookie = `access_token=${r.pick(['junk', token.slice(0, 40), ''])}`;
  if (r.chance(0.2)) headers['idempotency-key'] = r.pick(['k', 'x'.repeat(r.int(200, 300)), `fuzz-${r.int(0, 99)}`]);
  if (r.chance(0.2)) headers['x-request-id'] = r.pick(['fuzz-1', 'x'.repeat(200), 'bad id!', '']);
  if (r.chance(0.1)) headers.origin = r.pick(['http://evil.test', 'null', 'http://localhost:3000']);
  if (r.chance(0.1)) headers['access-control-request-method'] = r.pick(['POST', 'DELETE', 'BREW']);
  if (r.chance(0.1)) headers.accept = r.pick(['text/html', '*/*', 'application/xml', 'text/event-stream']);
  if (r.chance(0.05)) headers['x-forwarded-for'] = r.pick(['1.2.3.4', 'junk, 2.2.2.2', '::1']);
  if (r.chance(0.03)) headers['x-pad'] = 'p'.repeat(r.int(10_000, 20_000));

  let body: string | undefined;
  if (method !== 'GET' && method !== 'HEAD' && r.chance(0.85)) {
    const kind = r.int(0, 9);
    if (kind <= 5) body = JSON.stringify(valueFor(r, operation?.body));
    else if (kind === 6) body = JSON.stringify(junk(r));
    else if (kind === 7) body = r.pick(['{', '{"a":1,}', 'null', '[]', '"str"', '']);
    else body = 'z'.repeat(r.int(3_000, 12_000));
    headers['content-type'] = r.pick([
      'application/json',
      'application/json',
      'application/json; charset=utf-8',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=xyz',
      'multipart/form-data',
      'foo/bar',
      'application/json; charset=latin1',
    ]);
  }
  return { method, url: `${base}${path}`, headers, body, validToken, operation };
}

describe('fuzz: seeded random requests at the edge', () => {
  let stack: ChatStack;
  let worker: RunningWorker;
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);

  beforeAll(async () => {
    const overrides = {
      CHAT_REQUEST_TIMEOUT_MS: '2000',
      BODY_LIMIT_BYTES: '4096',
      WORKFLOW_SYNC_TIMEOUT_MS: '2000',
      TEMPORAL_TASK_QUEUE: `fuzz-${uniqueSuffix()}`,
    };
    stack = await startChatStack(overrides);
    worker = await startWorker(stack.config);
  });

  afterAll(async () => {
    await worker?.stop();
    await stack?.close();
  });

  it(`answers ${REQUESTS} random requests without an edge 5xx and always in the error format`, async () => {
    const r = prng(seed);
    const docRes = await request(`${stack.gw.url}/docs/json`);
    const doc = (await docRes.body.json()) as { paths?: unknown };
    expect([docRes.statusCode, typeof doc.paths]).toEqual([200, 'object']);
    const ops = operationsOf(doc as never);
    const { token } = await stack.signUp('Fuzz');
    const failures: string[] = [];
    let sent = 0;
    const stopAt = Date.now() + 200_000;

    const check = (req: Sent, status: number, headers: Record<string, unknown>, text: string) => {
      const where = `${req.method} ${req.url.slice(0, 160)} ${JSON.stringify({ ...req.headers, authorization: req.headers.authorization?.slice(0, 12) }).slice(0, 300)} body=${(req.body ?? '').slice(0, 120)}`;
      const requestId = headers['x-request-id'];
      if (typeof requestId !== 'string' || !requestId) failures.push(`no X-Request-Id: ${status} ${where}`);
      if (status < 400) return;
      if (req.method === 'HEAD') return;
      let body: { detail?: unknown; code?: unknown; request_id?: unknown } = {};
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        failures.push(`not JSON: ${status} ${text.slice(0, 80)} ← ${where}`);
        return;
      }
      if (typeof body.detail !== 'string' || typeof body.code !== 'string' || body.request_id !== requestId) {
        failures.push(`not the error format: ${status} ${text.slice(0, 120)} ← ${where}`);
      }
      if (status >= 500) {
        const upstreamInvolved = req.operation && (req.validToken || !req.operation.secured);
        if (!upstreamInvolved || !UPSTREAM_CODES.has(String(body.code))) {
          failures.push(`edge 5xx: ${status} ${String(body.code)} ← ${where}`);
        }
      }
    };

    const requests = Array.from({ length: REQUESTS }, () => buildRequest(r, ops, stack.gw.url, token));
    let next = 0;
    const lane = async () => {
      while (next < requests.length && Date.now() < stopAt) {
        const req = requests[next++]!;
        try {
          const res = await request(req.url, {
            method: req.method as 'GET',
            headers: req.headers,
            body: req.body,
            headersTimeout: 15_000,
            bodyTimeout: 15_000,
          });
          const text = await res.body.text();
          sent += 1;
          check(req, res.statusCode, res.headers, text);
        } catch (err) {
          failures.push(`no answer (${String(err)}) ← ${req.method} ${req.url.slice(0, 160)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, lane));

    if (failures.length) {
      throw new Error(
        `fuzz seed ${seed} (FUZZ_SEED=${seed} to replay): ${failures.length} failures\n${failures.slice(0, 25).join('\n')}`,
      );
    }
    expect(sent).toBeGreaterThanOrEqual(REQUESTS);
  });
});
