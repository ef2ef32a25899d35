import fp from 'fastify-plugin';
import { asArray } from '../../lib/as-array';
import { sha256Hex } from '../../lib/hash';
import type {
  FastifyBaseLogger,
  FastifyReply,
  FastifyRequest,
  onResponseAsyncHookHandler,
  onSendAsyncHookHandler,
  preHandlerAsyncHookHandler,
} from 'fastify';
import type { Database } from '../../db/database';
import type { Config } from '../../config';
import { HttpError } from '../../errors';
import { InstanceSession } from '../../idempotency/instance';
import {
  IdempotencyStore,
  canonicalJson,
  credentialDigest,
  type ClaimResult,
  type StoredResponse,
} from '../../idempotency/store';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Every POST/PATCH/DELETE honours Idempotency-Key; `false` marks a route that cannot, which then
     * refuses the header with 422 and says so in OpenAPI.
     */
    idempotent?: boolean;
  }
}

export interface IdempotencyPluginOptions {
  db: Database;
  config: Pick<Config, 'IDEMPOTENCY_TTL' | 'IDEMPOTENCY_LOCK_MS' | 'TEMPORAL_CODEC_KEYS' | 'DATABASE_URL'>;
  /** Who is calling, for the key's scope; defaults to the verified user, else a digest of the credential. */
  callerIdentity?: (request: FastifyRequest) => string | undefined;
  /** A claim whose request vanished (crash) may be taken over after this long. Default IDEMPOTENCY_LOCK_MS. */
  lockTimeoutMs?: number;
  /** How often expired keys are deleted. Default 10 min. */
  purgeIntervalMs?: number;
  /** How long this instance holds its lock before it takes a dead instance's claims over. Default 5 s. */
  takeoverGraceMs?: number;
}

export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const REPLAYED_HEADER = 'idempotent-replayed';
const METHODS = new Set(['POST', 'PATCH', 'DELETE']);
const KEY = /^[\x20-\x7e]{1,255}$/;
/** Headers that are part of "the answer"; the rest (request id, date, length) belongs to each response. */
const STORED_HEADERS = [
  'content-type',
  'location',
  'retry-after',
  'x-total-count',
  'cache-control',
  'content-disposition',
  'set-cookie',
];

/**
 * The request's Idempotency-Key on a POST/PATCH/DELETE, validated (1–255 printable characters,
 * else 400); undefined when there is none. Workflow-backed routes derive their workflow id from it.
 */
export function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  if (!METHODS.has(request.method)) return undefined;
  const raw = request.headers[IDEMPOTENCY_HEADER];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !KEY.test(raw)) {
    throw new HttpError('bad_request', 'Idempotency-Key must be 1-255 printable ASCII characters', {
      errors: [{ field: 'Idempotency-Key', message: 'must be 1-255 printable ASCII characters' }],
    });
  }
  return raw;
}

/** The claimed `scope` + key of a request, for ids derived from them (chat request ids). */
const claimedScopes = new WeakMap<FastifyRequest, string>();

/**
 * A stable id for the upstream request behind an Idempotency-Key: the same caller, route and key
 * give the same id, so a retry after a 504 is the same chat request (chat-kafka.md: a repeated
 * request_id is answered again, not applied twice). Undefined without a key.
 */
export function idempotentRequestId(request: FastifyRequest): string | undefined {
  const scoped = claimedScopes.get(request);
  return scoped && `idem-${sha256Hex(scoped).slice(0, 32)}`;
}

const refuseKey: preHandlerAsyncHookHandler = async function (request) {
  if (request.headers[IDEMPOTENCY_HEADER] === undefined) return;
  throw new HttpError('validation_error', 'This route cannot honour Idempotency-Key', {
    errors: [{ field: 'Idempotency-Key', message: 'is not supported on this route' }],
  });
};

/** A replayed error names this request (its X-Request-Id), not the one that was first answered. */
function withRequestId(request: FastifyRequest, status: number, body: Buffer): Buffer | string {
  if (status < 400) return body;
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    if (!parsed || typeof parsed !== 'object' || !('request_id' in parsed)) return body;
    return JSON.stringify({ ...parsed, request_id: request.id });
  } catch {
    return body;
  }
}

function defaultCaller(request: FastifyRequest): string {
  const user = (request as unknown as { user?: { sub?: unknown } }).user;
  if (user && typeof user.sub === 'string' && user.sub) return `user:${user.sub}`;
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string' && authorization) return `credential:${credentialDigest(authorization)}`;
  const cookie = (request as unknown as { cookies?: Record<string, string | undefined> }).cookies?.access_token;
  if (cookie) return `credential:${credentialDigest(`Bearer ${cookie}`)}`;
  const internal = request.headers['x-internal-key'];
  if (typeof internal === 'string' && internal) return `internal:${credentialDigest(internal)}`;
  return 'anonymous';
}

interface Claim {
  scope: string;
  key: string;
  owner: string;
  settled: boolean;
  renewal?: NodeJS.Timeout;
}

function storedHeaders(reply: FastifyReply): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name of STORED_HEADERS) {
    const value = reply.getHeader(name);
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.map(String) : String(value);
  }
  return out;
}

/** The store, its claims naming this process's instance lock (a retry elsewhere takes a dead one's over). */
function openStore(log: FastifyBaseLogger, options: IdempotencyPluginOptions, lockTimeoutMs: number) {
  const instance = new InstanceSession({ databaseUrl: options.config.DATABASE_URL, logger: log });
  instance.start();
  const store = new IdempotencyStore(options.db, {
    ttlMs: options.config.IDEMPOTENCY_TTL,
    lockTimeoutMs,
    keys: options.config.TEMPORAL_CODEC_KEYS,
    instance,
    takeoverGraceMs: options.takeoverGraceMs,
  });
  return { store, instance };
}

/** Deletes expired keys every `intervalMs` (the timer does not keep the process alive). */
function purgeEvery(log: FastifyBaseLogger, store: IdempotencyStore, intervalMs: number): NodeJS.Timeout {
  const timer = setInterval(() => {
    store.purgeExpired().catch((err: unknown) => log.warn({ err }, 'purging expired idempotency keys failed'));
  }, intervalMs);
  timer.unref();
  return timer;
}

/** A key this request may not run under: another request's (422), still running (409), or answered (replay). */
function answerUnclaimed(
  request: FastifyRequest,
  reply: FastifyReply,
  result: Exclude<ClaimResult, { outcome: 'claimed' }>,
) {
  switch (result.outcome) {
    case 'mismatch':
      throw new HttpError('validation_error', 'Idempotency-Key was already used with a different request', {
        errors: [{ field: 'Idempotency-Key', message: 'was already used with a different request' }],
      });
    case 'in_progress':
      throw new HttpError('conflict', 'A request with this Idempotency-Key is still being processed', {
        headers: { 'retry-after': String(result.retryAfterSec) },
      });
    case 'replay': {
      const { status, headers, body } = result.response;
      for (const [name, value] of Object.entries(headers)) void reply.header(name, value);
      void reply.header(REPLAYED_HEADER, 'true');
      return reply.code(status).send(body.length ? withRequestId(request, status, body) : undefined);
    }
  }
}

/**
 * Idempotency-Key handling for every POST/PATCH/DELETE route (gateway-http.md, Conventions →
 * Idempotency). Its hooks are appended to each such route's own hooks, so they run
 * after the route's authentication and validation: the first request claims the key and its answer
 * is stored before it is sent; a retry with the same request replays it (`Idempotent-Replayed: true`);
 * the same key with a different request → 422; while the first is running → 409. 5xx and 429
 * answers are not stored, so the retry runs again.
 */
export default fp<IdempotencyPluginOptions>(
  async (app, options) => {
    const lockTimeoutMs = options.lockTimeoutMs ?? options.config.IDEMPOTENCY_LOCK_MS;
    const { store, instance } = openStore(app.log, options, lockTimeoutMs);
    const callerOf = (request: FastifyRequest) => options.callerIdentity?.(request) ?? defaultCaller(request);
    const claims = new WeakMap<FastifyRequest, Claim>();

    const settle = async (request: FastifyRequest, claim: Claim, response: StoredResponse | null) => {
      claim.settled = true;
      clearInterval(claim.renewal);
      try {
        if (response) await store.complete(claim, claim.owner, response);
        else await store.release(claim, claim.owner);
      } catch (err) {
        // The claim then expires after lockTimeoutMs; the response itself is unaffected.
        request.log.warn({ err }, 'could not store the idempotent answer');
      }
    };

    const claimKey: preHandlerAsyncHookHandler = async function (request, reply) {
      const key = idempotencyKeyOf(request);
      if (key === undefined) return;
      const scope = `${request.method} ${request.routeOptions.url ?? request.url} ${callerOf(request)}`;
      const fingerprint = canonicalJson({ params: request.params, query: request.query, body: request.body });
      let result;
      try {
        result = await store.claim({ scope, key, fingerprint });
      } catch (err) {
        request.log.error({ err }, 'idempotency store unavailable');
        throw new HttpError('upstream_unavailable', 'Idempotency keys cannot be checked right now; retry later', {
          headers: { 'retry-after': '1' },
        });
      }
      if (result.outcome !== 'claimed') return answerUnclaimed(request, reply, result);
      const claim: Claim = { scope, key, owner: result.owner, settled: false };
      // A request may outlast the lock (title generation waits as long): renew it while it runs.
      claim.renewal = setInterval(() => {
        store
          .extendLock(claim, claim.owner)
          .catch((err: unknown) => request.log.warn({ err }, 'could not extend the idempotency lock'));
      }, lockTimeoutMs / 3);
      claim.renewal.unref();
      claims.set(request, claim);
      claimedScopes.set(request, `${scope}\n${key}`);
    };

    const storeAnswer: onSendAsyncHookHandler = async function (request, reply, payload) {
      const claim = claims.get(request);
      if (!claim || claim.settled) return payload;
      const status = reply.statusCode;
      const replayable =
        payload === null || payload === undefined || typeof payload === 'string' || Buffer.isBuffer(payload);
      if (status >= 500 || status === 429 || !replayable) {
        await settle(request, claim, null);
        return payload;
      }
      const body = payload === null || payload === undefined ? Buffer.alloc(0) : Buffer.from(payload);
      await settle(request, claim, { status, headers: storedHeaders(reply), body });
      return payload;
    };

    // A claim left behind (hijacked reply, aborted request) is released once the exchange is over.
    const releaseClaim: onResponseAsyncHookHandler = async function (request) {
      const claim = claims.get(request);
      if (claim && !claim.settled) await settle(request, claim, null);
    };

    app.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      if (!methods.some((m) => METHODS.has(m))) return;
      if (route.config?.idempotent === false) {
        route.preHandler = [...asArray(route.preHandler), refuseKey];
        const note = 'This route refuses Idempotency-Key (422).';
        route.schema = { ...route.schema, description: [route.schema?.description, note].filter(Boolean).join(' ') };
        return;
      }
      route.preHandler = [...asArray(route.preHandler), claimKey];
      route.onSend = [...asArray(route.onSend), storeAnswer];
      route.onResponse = [...asArray(route.onResponse), releaseClaim];
    });

    const purge = purgeEvery(app.log, store, options.purgeIntervalMs ?? 10 * 60_000);
    app.addHook('onClose', async () => {
      clearInterval(purge);
      // After the server closed: no request of this process holds a claim any more.
      await instance.close();
    });
  },
  { name: 'idempotency', dependencies: ['errors'] },
);
