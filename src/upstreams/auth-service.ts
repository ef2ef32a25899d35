import type { Config } from '../config';
import { HttpError, clientSafeDetail } from '../errors';
import type { Logger } from '../logger';
import { authReplySpec } from '../auth/replies';
import { readUpstreamReply, refuseReply } from './replies';
import type { CircuitBreaker } from './circuit-breaker';
import { jitteredBackoff as backoff, sleep } from '../lib/wait';
import { UpstreamPool, type PoolAnswer } from './upstream-pool';
import { bodyText, detailOf, fieldErrorsOf } from './upstream-errors';

export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface CallOptions {
  body?: unknown;
  /** The caller's access token, forwarded as Bearer. */
  token?: string;
  /** The caller's whole Authorization value (`AuthenticatedUser.authorization`), forwarded as is; over `token`. */
  authorization?: string;
  /** Adds X-Internal-Key (internal /auth/* endpoints). */
  internal?: boolean;
  query?: Record<string, string>;
  timeoutMs?: number;
  /**
   * Retry network errors, 5xx and 429 with backoff. Defaults to true for GET only: a POST is
   * retried by its Temporal activity (which knows whether the upstream call is idempotent), never here.
   */
  retry?: boolean;
}

export interface UpstreamResponse<T = unknown> {
  status: number;
  body: T;
}

/**
 * A success the gateway maps, read liberally (src/auth/replies.ts): nulls and unknown fields are
 * fine, a missing id it acts on is a 502 (counted, logged by the error handler with the field).
 */
function readReply<T>(method: Method, path: string, res: UpstreamResponse<T>): UpstreamResponse<T> {
  const spec = res.status === 200 || res.status === 201 ? authReplySpec(method, path) : undefined;
  if (!spec) return res;
  const read = readUpstreamReply(spec.schema, res.body);
  if (!read.ok)
    throw refuseReply({ upstream: 'auth', operation: spec.operation, path: read.path, message: read.message });
  return { status: res.status, body: read.value as T };
}

/**
 * Turns an upstream error answer into the gateway's error vocabulary (auth-service.md quirks):
 * 400 "Insufficient permissions" → 403, FastAPI 422 lists → `errors`, 5xx text never forwarded.
 */
export function reshapeAuthError(status: number, body: unknown): HttpError {
  const raw = detailOf(body);
  const detail = clientSafeDetail(raw);
  if (status === 400 && raw && /insufficient permissions/i.test(raw))
    return new HttpError('forbidden', 'Insufficient permissions');
  if (status === 422)
    return new HttpError('validation_error', 'Request validation failed', { errors: fieldErrorsOf(body) });
  if (status === 400) return new HttpError('bad_request', detail ?? 'Bad request');
  if (status === 401) return new HttpError('unauthorized', detail ?? 'Not authenticated');
  if (status === 403) return new HttpError('forbidden', detail ?? 'Forbidden');
  if (status === 404) return new HttpError('not_found', detail ?? 'Not found');
  if (status === 409) return new HttpError('conflict', detail ?? 'Conflict');
  if (status === 410) return new HttpError('gone', detail ?? 'Gone');
  if (status === 429)
    return new HttpError('rate_limited', 'Auth service is rate limiting', { headers: { 'retry-after': '1' } });
  if (status === 503) return new HttpError('upstream_unavailable', 'Auth service is unavailable');
  if (status === 504) return new HttpError('upstream_timeout', 'Auth service timed out');
  return new HttpError('upstream_error', 'Auth service error');
}

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);

/** Keep-alive pool to the auth service (bench/floor.ts uses the same, so the two are comparable). */
export const AUTH_AGENT_OPTIONS = {
  keepAliveTimeout: 30_000,
  keepAliveMaxTimeout: 60_000,
  connections: 256,
  connect: { timeout: 3_000 },
};

/**
 * The one client of the auth service, used by routes and activities alike: a keep-alive pool,
 * a timeout on every call, retries with exponential backoff and jitter only where safe, and a
 * circuit breaker. It never follows redirects (the upstream's trailing-slash 307s point at itself).
 */
export class AuthServiceClient {
  private readonly pool: UpstreamPool;

  constructor(
    private readonly config: Pick<
      Config,
      | 'AUTH_SERVICE_URL'
      | 'AUTH_SERVICE_TIMEOUT_MS'
      | 'AUTH_SERVICE_RETRIES'
      | 'AUTH_SERVICE_MAX_ANSWER_BYTES'
      | 'AUTH_BREAKER_THRESHOLD'
      | 'AUTH_BREAKER_COOLDOWN_MS'
      | 'INTERNAL_SERVICE_KEY'
    > &
      Partial<Pick<Config, 'AUTH_BREAKER_STALL_MS'>>,
    logger: Logger,
  ) {
    this.pool = new UpstreamPool(
      {
        name: 'auth-service',
        title: 'Auth service',
        url: config.AUTH_SERVICE_URL,
        agent: AUTH_AGENT_OPTIONS,
        breakerThreshold: config.AUTH_BREAKER_THRESHOLD,
        breakerCooldownMs: config.AUTH_BREAKER_COOLDOWN_MS,
        breakerStallMs: config.AUTH_BREAKER_STALL_MS,
        maxAnswerBytes: config.AUTH_SERVICE_MAX_ANSWER_BYTES,
      },
      logger,
    );
  }

  get breaker(): CircuitBreaker {
    return this.pool.breaker;
  }

  /** Sends one call; answers any upstream status (the caller decides), throws on transport failure. */
  async call<T = unknown>(method: Method, path: string, opts: CallOptions = {}): Promise<UpstreamResponse<T>> {
    const retry = opts.retry ?? method === 'GET';
    const attempts = retry ? this.config.AUTH_SERVICE_RETRIES + 1 : 1;
    let last: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      // A retry into an open circuit would only be refused: answer the failure itself.
      if (attempt > 0 && this.pool.breaker.refusing) break;
      if (attempt > 0) await sleep(backoff(attempt));
      try {
        const res = await this.once<T>(method, path, opts);
        if (!(retry && RETRYABLE_STATUS.has(res.status)) || attempt === attempts - 1)
          return readReply(method, path, res);
        last = res;
      } catch (err) {
        last = err;
        if (!(err instanceof HttpError && err.transient)) throw err;
      }
    }
    if (last instanceof Error) throw last;
    return last as UpstreamResponse<T>;
  }

  /** `call` that throws the reshaped error unless the status is one of `ok`. */
  async expect<T = unknown>(
    method: Method,
    path: string,
    ok: number[],
    opts: CallOptions = {},
  ): Promise<UpstreamResponse<T>> {
    const res = await this.call<T>(method, path, opts);
    if (!ok.includes(res.status)) throw reshapeAuthError(res.status, res.body);
    return res;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  /** Readiness probe: the status of `GET /health`, outside the circuit breaker and without retries. */
  async probe(timeoutMs: number): Promise<number> {
    return this.pool.probe('/health', timeoutMs);
  }

  private async once<T>(method: Method, path: string, opts: CallOptions): Promise<UpstreamResponse<T>> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (opts.authorization) headers.authorization = opts.authorization;
    else if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.internal) headers['x-internal-key'] = this.config.INTERNAL_SERVICE_KEY;
    const qs = opts.query ? `?${new URLSearchParams(opts.query).toString()}` : '';
    const res = await this.pool.send({
      method,
      path: `${path}${qs}`,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      timeoutMs: opts.timeoutMs ?? this.config.AUTH_SERVICE_TIMEOUT_MS,
    });
    return { status: res.status, body: readJson(res) as T };
  }
}

/** JSON when the upstream says so and it parses, else the text (FastAPI's bare 500s are text). */
function readJson(res: PoolAnswer): unknown {
  const text = bodyText(res.body);
  const type = String(res.headers['content-type'] ?? '');
  if (!type.includes('json') || !text) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
