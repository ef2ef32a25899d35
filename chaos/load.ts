import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { RUN_ID } from '../bench/lib/params';
import { uniqueEmail } from '../bench/lib/base-world';
import { OUTAGE_SEC, RATES, type LoadRoute } from './params';
import type { ChaosWorld, User } from './world';

/** One answer as the client saw it. `status` 0: no answer (connection refused or reset, timeout). */
export interface Sample {
  route: string;
  replica: number;
  /** The fault whose window the request was sent in ('' between faults). */
  phase: string;
  sentAt: number;
  endAt: number;
  status: number;
  retryAfter: boolean;
  /** Retry-After in seconds, when the answer had one. */
  retryAfterSec?: number;
  requestId: string;
  /** The state event a success must have produced. */
  event?: string;
  note?: string;
}

export const samples: Sample[] = [];
export const signUps: {
  email: string;
  requestId: string;
  phase: string;
  status: number;
  /** The status of its last retry (under the same Idempotency-Key), or `status` when it was not retried. */
  final: number;
  operationId?: string;
}[] = [];
export const orgs: { name: string; sub: string; phase: string; status: number }[] = [];
export const state = { phase: '', down: new Set<number>() };

const PASSWORD = 'Bench-password-1';
const dispatcher = new Agent({ connections: 64, headersTimeout: 20_000, bodyTimeout: 20_000, connectTimeout: 5_000 });
let seq = 0;

interface CallOpts {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
  event?: string;
  /** Reads an SSE body and notes how the stream ended. */
  stream?: boolean;
}

/** One request to a live replica, recorded as a Sample; resolves with its status and JSON body. */
export async function call(w: ChaosWorld, route: string, method: string, path: string, opts: CallOpts = {}) {
  seq += 1;
  const live = w.replicas.map((_, i) => i).filter((i) => !state.down.has(i));
  const replica = live[seq % live.length] ?? 0;
  const requestId = `${RUN_ID}.${route.replace(/[^a-z]/g, '')}.${seq}`;
  const headers: Record<string, string> = { 'x-request-id': requestId, ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const sample: Sample = {
    route,
    replica,
    phase: state.phase,
    sentAt: Date.now(),
    endAt: 0,
    status: 0,
    retryAfter: false,
    requestId,
  };
  let body: unknown;
  try {
    const res = await request(`${w.replicas[replica]!.url}${path}`, {
      method: method as 'GET',
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      dispatcher,
      signal: AbortSignal.timeout(30_000),
    });
    sample.status = res.statusCode;
    sample.retryAfter = res.headers['retry-after'] !== undefined;
    if (sample.retryAfter) sample.retryAfterSec = Number(res.headers['retry-after']);
    const text = await res.body.text();
    if (opts.stream && res.statusCode === 200)
      sample.note = /event: done/.test(text) ? 'done' : /event: error/.test(text) ? 'error frame' : 'cut off';
    else body = text && String(res.headers['content-type'] ?? '').includes('json') ? JSON.parse(text) : text;
  } catch (err) {
    const message = err instanceof Error ? err.message.slice(0, 80) : String(err);
    // After the headers: a body (an answer stream) that never ended or was cut.
    sample.note = sample.status && /timeout|aborted/i.test(message) ? 'no end within 30 s' : message;
  }
  sample.endAt = Date.now();
  if (sample.status >= 200 && sample.status < 300 && !sample.note) sample.event = opts.event;
  samples.push(sample);
  return {
    status: sample.status,
    body: body as Record<string, unknown> | undefined,
    requestId,
    retryAfterSec: sample.retryAfterSec,
  };
}

/** A refusal a client retries under the same Idempotency-Key: a 503, a 409 "still running", no answer. */
export const retryable = (status: number) => status === 503 || status === 409 || status === 0;

/** How long a client waits before its retry: Retry-After (at most 10 s), else 1 s. */
export const retryDelayMs = (retryAfterSec: number | undefined) =>
  Math.min(10, retryAfterSec && retryAfterSec > 0 ? retryAfterSec : 1) * 1000;

const lane = (w: ChaosWorld, n: number): User => w.users[n % w.users.length]!;

/** A token for a logout: signed in straight at the auth fake (not part of the measured load). */
async function freshToken(w: ChaosWorld, user: User): Promise<string | undefined> {
  try {
    const res = await request(`${w.authUrl}/v1/client/sign-in/password`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: user.email, password: PASSWORD }),
      headersTimeout: 2_000,
      bodyTimeout: 2_000,
    });
    const body = (await res.body.json()) as { access_token?: string };
    return res.statusCode === 200 ? body.access_token : undefined;
  } catch {
    return undefined;
  }
}

const TASKS: Record<LoadRoute, (w: ChaosWorld, n: number) => Promise<unknown>> = {
  'sign-in': (w, n) =>
    call(w, 'sign-in', 'POST', '/v1/client/sign-in/password', {
      body: { email: lane(w, n).email, password: PASSWORD },
      event: 'user_logged_in',
    }),
  me: (w, n) => call(w, 'me', 'GET', '/v1/client/me', { token: lane(w, n).token }),
  'chat list': (w, n) => call(w, 'chat list', 'GET', '/api/chat/conversations/?limit=5', { token: lane(w, n).token }),
  'chat CRUD': async (w, n) => {
    const token = lane(w, n).token;
    const made = await call(w, 'chat create', 'POST', '/api/chat/conversations/', {
      token,
      body: { topic: `crud ${n}` },
    });
    const id = made.body?.conversation_id;
    if (made.status !== 201 || typeof id !== 'number') return;
    await call(w, 'chat update', 'PUT', `/api/chat/conversations/${id}/`, {
      token,
      body: { topic: `crud ${n}'` },
    });
    await call(w, 'chat delete', 'DELETE', `/api/chat/conversations/${id}/`, { token });
  },
  'ai stream': (w, n) =>
    call(w, 'ai stream', 'POST', '/api/conversation/', {
      token: lane(w, n).token,
      // Echoed a word every 30 ms: streams of about 2 s, so a fault finds some in flight.
      body: { name: 'chaos', message: [{ content: `chaos question ${n} ${'word '.repeat(60)}` }] },
      stream: true,
    }),
  org: async (w, n) => {
    const user = lane(w, n);
    const name = `${RUN_ID} org ${n}`;
    const res = await call(w, 'org', 'POST', '/v1/org', {
      token: user.token,
      body: { name },
      event: 'organization_created',
    });
    orgs.push({ name, sub: user.sub, phase: state.phase, status: res.status });
  },
  'sign-up': async (w) => {
    const email = uniqueEmail('su');
    // A careful client: an Idempotency-Key, and a refusal retried under it as Retry-After says.
    const opts = {
      body: { email, password: PASSWORD, full_name: 'Chaos' },
      headers: { 'idempotency-key': `${RUN_ID}-${email}` },
    };
    const phase = state.phase;
    let res = await call(w, 'sign-up', 'POST', '/v1/client/sign-up', { ...opts, event: 'user_registered' });
    const first = res;
    // Until it is answered, for a while longer than an outage lasts (the account may exist already).
    const giveUpAt = Date.now() + (OUTAGE_SEC + 30) * 1000;
    while (retryable(res.status) && Date.now() < giveUpAt) {
      await sleep(retryDelayMs(res.retryAfterSec));
      res = await call(w, 'sign-up retry', 'POST', '/v1/client/sign-up', opts);
    }
    const operationId = typeof res.body?.operation_id === 'string' ? res.body.operation_id : undefined;
    signUps.push({ email, requestId: first.requestId, phase, status: first.status, final: res.status, operationId });
  },
  logout: async (w, n) => {
    const user = lane(w, n);
    const token = await freshToken(w, user);
    if (token) await call(w, 'logout', 'POST', '/v1/client/logout', { token, body: {}, event: 'user_logged_out' });
  },
};

/** One more sign-up now (the worker fault sends a few right before its SIGKILL). */
export const signUpNow = (w: ChaosWorld) => TASKS['sign-up'](w, 0);

/**
 * The steady mixed load: every route at its fixed rate (request i of a route is due at i / rate s,
 * whether or not earlier ones answered), plus /health/ready of each replica once a second.
 * `stop()` ends the schedule and waits for what is in flight (each request is bounded to 30 s).
 */
export function startLoad(w: ChaosWorld) {
  const t0 = Date.now();
  const sent = new Map<string, number>();
  const pending = new Set<Promise<unknown>>();
  const fire = (p: Promise<unknown>) => {
    const done = p.catch(() => undefined);
    pending.add(done);
    void done.finally(() => pending.delete(done));
  };
  const timer = setInterval(() => {
    const elapsed = (Date.now() - t0) / 1000;
    for (const [route, rate] of Object.entries(RATES) as [LoadRoute, number][]) {
      let n = sent.get(route) ?? 0;
      while (n <= elapsed * rate) fire(TASKS[route](w, n++));
      sent.set(route, n);
    }
    const ready = sent.get('ready') ?? 0;
    if (ready <= elapsed) {
      sent.set('ready', ready + 1);
      w.replicas.forEach((r, i) => {
        if (!state.down.has(i)) fire(readiness(r.url, i));
      });
    }
  }, 25);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(pending);
    },
  };
}

async function readiness(url: string, replica: number) {
  const sample: Sample = {
    route: 'ready',
    replica,
    phase: state.phase,
    sentAt: Date.now(),
    endAt: 0,
    status: 0,
    retryAfter: false,
    requestId: '',
  };
  try {
    const res = await request(`${url}/health/ready`, { dispatcher, signal: AbortSignal.timeout(5_000) });
    await res.body.text();
    sample.status = res.statusCode;
  } catch (err) {
    sample.note = err instanceof Error ? err.message.slice(0, 80) : String(err);
  }
  sample.endAt = Date.now();
  samples.push(sample);
}

export function closeLoad(): Promise<void> {
  return dispatcher.close();
}
