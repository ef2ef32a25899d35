import type { Dispatcher } from 'undici';
import { HttpError } from '../errors';
import { jitteredBackoff, sleep } from '../lib/wait';
import type { Logger as PinoLogger } from '../logger';

type Logger = Pick<PinoLogger, 'info' | 'warn' | 'error'>;
import { CircuitBreaker } from './circuit-breaker';
import { Agent, request } from './undici-lean';
import { isUpstreamTimeout } from './upstream-errors';

export interface HttpUpstreamOptions {
  /** Name in logs, metrics and error details, e.g. `billing`. */
  name: string;
  /** Base URL; its path is prefixed to every call. */
  url: string;
  connections: number;
  keepAliveMs: number;
  breakerThreshold: number;
  breakerCooldownMs: number;
  /** Path probed by readiness (informational), e.g. `/health`. */
  readinessPath?: string;
}

export interface UpstreamRequest {
  method: string;
  /** Path and query string, appended to the base URL's path. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer | string;
  timeoutMs: number;
  /** Extra attempts after a transport failure or a 502/503/504; only for idempotent calls. */
  retries?: number;
}

export interface UpstreamAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

const RETRYABLE_STATUS = new Set([502, 503, 504]);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

export const isIdempotent = (method: string) => IDEMPOTENT.has(method.toUpperCase());

/**
 * An HTTP upstream of the route table: one keep-alive pool, a circuit breaker, a deadline on every
 * call and retries with backoff and jitter for idempotent calls only. Answers are buffered (the
 * gateway reshapes errors and may transform bodies); transport failures become `HttpError`s.
 */
export class HttpUpstream {
  readonly breaker: CircuitBreaker;
  private readonly dispatcher: Dispatcher;
  private readonly origin: string;
  private readonly basePath: string;

  constructor(
    readonly options: HttpUpstreamOptions,
    private readonly logger: Logger,
  ) {
    const base = new URL(options.url);
    this.origin = base.origin;
    this.basePath = base.pathname.replace(/\/+$/, '');
    this.breaker = new CircuitBreaker(options.name, options.breakerThreshold, options.breakerCooldownMs);
    this.dispatcher = new Agent({
      connections: options.connections,
      keepAliveTimeout: options.keepAliveMs,
      keepAliveMaxTimeout: Math.max(options.keepAliveMs, 60_000),
      connect: { timeout: 3_000 },
    });
  }

  get name(): string {
    return this.options.name;
  }

  async send(req: UpstreamRequest): Promise<UpstreamAnswer> {
    const attempts = 1 + (isIdempotent(req.method) ? (req.retries ?? 0) : 0);
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await this.once(req);
        if (attempt < attempts && RETRYABLE_STATUS.has(res.status)) {
          await sleep(jitteredBackoff(attempt));
          continue;
        }
        return res;
      } catch (err) {
        const retryable = err instanceof HttpError && err.transient;
        if (!retryable || attempt >= attempts) throw err;
        await sleep(jitteredBackoff(attempt));
      }
    }
  }

  /** Readiness (informational): the status of the readiness path, outside the breaker. */
  async probe(timeoutMs: number): Promise<number> {
    const res = await request(this.dispatcher, {
      origin: this.origin,
      path: `${this.basePath}${this.options.readinessPath ?? '/health'}`,
      method: 'GET',
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    await res.body.dump();
    return res.statusCode;
  }

  /** Waits for calls in flight, then closes the pool. */
  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private async once(req: UpstreamRequest): Promise<UpstreamAnswer> {
    if (!this.breaker.allow()) {
      throw new HttpError('upstream_unavailable', `${this.name} is unavailable`, {
        headers: { 'retry-after': String(this.breaker.retryAfterSeconds()) },
      });
    }
    const started = performance.now();
    // One deadline for connect, headers and body; a plain timer, cleared at the end.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new DOMException('timed out', 'TimeoutError')), req.timeoutMs);
    try {
      const res = await request(this.dispatcher, {
        origin: this.origin,
        path: `${this.basePath}${req.path}`,
        method: req.method,
        headers: req.headers,
        body: req.body,
        headersTimeout: req.timeoutMs,
        bodyTimeout: req.timeoutMs,
        signal: deadline.signal,
      });
      const body = Buffer.from(await res.body.arrayBuffer());
      if (res.statusCode >= 500) this.breaker.failure();
      else this.breaker.success();
      return { status: res.statusCode, headers: res.headers, body };
    } catch (err) {
      this.breaker.failure();
      const name = (err as { name?: unknown } | null)?.name;
      const timedOut = isUpstreamTimeout(err);
      this.logger.warn(
        {
          upstream: this.name,
          method: req.method,
          path: req.path.split('?')[0],
          ms: Math.round(performance.now() - started),
          error: typeof name === 'string' ? name : 'error',
        },
        'upstream call failed',
      );
      throw timedOut
        ? new HttpError('upstream_timeout', `${this.name} timed out`, { transient: true })
        : new HttpError('upstream_unavailable', `${this.name} is unavailable`, {
            transient: true,
            headers: { 'retry-after': '1' },
          });
    } finally {
      clearTimeout(timer);
    }
  }
}
