import { HttpError } from '../errors';
import type { Logger as PinoLogger } from '../logger';
import type { CircuitBreaker } from './circuit-breaker';
import { jitteredBackoff as backoff, sleep } from '../lib/wait';
import { UpstreamPool, type PoolAnswer } from './upstream-pool';

type Logger = Pick<PinoLogger, 'info' | 'warn' | 'error'>;

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
  /** The longest answer body read; a longer one is answered 502. */
  maxAnswerBytes: number;
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

export type UpstreamAnswer = PoolAnswer<Buffer>;

const RETRYABLE_STATUS = new Set([502, 503, 504]);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

export const isIdempotent = (method: string) => IDEMPOTENT.has(method.toUpperCase());

/**
 * An HTTP upstream of the route table: one keep-alive pool, a circuit breaker, a deadline on every
 * call and retries with backoff and jitter for idempotent calls only. Answers are buffered (the
 * gateway reshapes errors and may transform bodies); transport failures become `HttpError`s.
 */
export class HttpUpstream {
  private readonly pool: UpstreamPool;

  constructor(
    readonly options: HttpUpstreamOptions,
    logger: Logger,
  ) {
    this.pool = new UpstreamPool(
      {
        name: options.name,
        title: options.name,
        url: options.url,
        agent: {
          connections: options.connections,
          keepAliveTimeout: options.keepAliveMs,
          keepAliveMaxTimeout: Math.max(options.keepAliveMs, 60_000),
          connect: { timeout: 3_000 },
        },
        breakerThreshold: options.breakerThreshold,
        breakerCooldownMs: options.breakerCooldownMs,
        maxAnswerBytes: options.maxAnswerBytes,
      },
      logger,
    );
  }

  get breaker(): CircuitBreaker {
    return this.pool.breaker;
  }

  get name(): string {
    return this.options.name;
  }

  async send(req: UpstreamRequest): Promise<UpstreamAnswer> {
    const attempts = 1 + (isIdempotent(req.method) ? (req.retries ?? 0) : 0);
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await this.pool.send(req);
        if (attempt < attempts && RETRYABLE_STATUS.has(res.status)) {
          await sleep(backoff(attempt));
          continue;
        }
        return res;
      } catch (err) {
        const retryable = err instanceof HttpError && err.transient;
        if (!retryable || attempt >= attempts) throw err;
        await sleep(backoff(attempt));
      }
    }
  }

  /** Readiness (informational): the status of the readiness path, outside the breaker. */
  async probe(timeoutMs: number): Promise<number> {
    return this.pool.probe(this.options.readinessPath ?? '/health', timeoutMs);
  }

  /** Waits for calls in flight, then closes the pool. */
  async close(): Promise<void> {
    await this.pool.close();
  }
}
