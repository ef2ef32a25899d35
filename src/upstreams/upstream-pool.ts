import { HttpError } from '../errors';
import type { Logger } from '../logger';
import { Admission } from './admission';
import { CircuitBreaker } from './circuit-breaker';
import { Deadlines } from './deadlines';
import { AnswerTooLarge, PoolCall, type CallOwner, type PoolAnswer, type PoolSettle } from './pool-call';
import { trackPool, upstreamAnswersTooLarge, type MeasuredPool } from './pool-metrics';
import { StallWatch } from './stall-watch';
import { Agent, errors as undiciErrors } from './undici-lean';

export type { PoolAnswer };

export interface UpstreamPoolOptions {
  /** Name in logs and metrics, e.g. `auth-service`, `billing`. */
  name: string;
  /** Name in error details, e.g. `Auth service`. */
  title: string;
  /** Base URL; its path is prefixed to every call. */
  url: string;
  agent: ConstructorParameters<typeof Agent>[0];
  breakerThreshold: number;
  breakerCooldownMs: number;
  /** Open the breaker on a frozen upstream (see StallWatch); 0 or absent = off. */
  breakerStallMs?: number;
  /** The longest answer body read; a longer one ends the call with a 502 (see PoolCall). */
  maxAnswerBytes: number;
}

export interface PoolRequest {
  method: string;
  /** Path and query string, appended to the base URL's path. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer | string;
  timeoutMs: number;
}

/** The abort reason of a call ended because its upstream stalled (see StallWatch). */
const STALLED = new Error('the upstream stalled: circuit opened');

/**
 * The transport shared by the auth-service client and the route table's upstreams: one keep-alive
 * pool, a circuit breaker and one deadline on every call. Every upstream status is an answer (the
 * caller decides); a transport failure is logged once and becomes a transient `HttpError`.
 */
export class UpstreamPool implements CallOwner, MeasuredPool {
  readonly breaker: CircuitBreaker;
  readonly deadlines = new Deadlines<PoolCall>();
  /** Calls past the pool's connection count wait in it rather than in undici (see Admission). */
  readonly admission: Admission<PoolCall>;
  private readonly stall?: StallWatch;
  private readonly dispatcher: InstanceType<typeof Agent>;
  /** The base URL split once: undici's `request(url)` parsed the URL string on every call. */
  private readonly origin: string;
  private readonly basePath: string;
  private readonly untrack: () => void;

  constructor(
    private readonly options: UpstreamPoolOptions,
    private readonly logger: Pick<Logger, 'warn'>,
  ) {
    const base = new URL(options.url);
    this.origin = base.origin;
    this.basePath = base.pathname.replace(/\/+$/, '');
    this.breaker = new CircuitBreaker(options.name, options.breakerThreshold, options.breakerCooldownMs);
    if (options.breakerStallMs) {
      this.stall = new StallWatch(options.breakerStallMs, options.breakerThreshold, () => this.checkStall());
    }
    this.dispatcher = new Agent(options.agent);
    // One call per connection: undici does not pipeline a non-idempotent request anyway.
    const limit = options.agent?.connections || Infinity;
    this.admission = new Admission(limit, (call) => this.dispatcher.dispatch(call.options, call));
    this.untrack = trackPool(this);
  }

  get name(): string {
    return this.options.name;
  }

  get inFlight(): number {
    return this.admission.active;
  }

  get waiting(): number {
    return this.admission.waiting;
  }

  /**
   * One attempt, the whole answer buffered. One deadline for the whole call (connect, headers,
   * body), on the pool's one timer; undici's headersTimeout/bodyTimeout bound the gaps as well.
   */
  send(req: PoolRequest): Promise<PoolAnswer> {
    this.checkStall();
    // Open circuit: fail at once, and do not retry (the breaker decides when to try again).
    if (!this.breaker.allow()) return Promise.reject(this.circuitOpen());
    return new Promise((resolve, reject) => {
      this.start(req, true, (call, err, answer) => {
        if (err !== undefined) {
          reject(this.failed(call, req, err));
          return;
        }
        this.answered(call, answer!.status);
        resolve(answer!);
      });
    });
  }

  /**
   * Starts one call: its deadline (and, when `watched`, its stall-watch entry) taken first, then
   * handed to undici now or when a place is free (see Admission). undici may settle it
   * synchronously (an invalid header, a closed pool).
   */
  private start(req: PoolRequest, watched: boolean, settle: PoolSettle): void {
    const idempotent = req.method === 'GET' || req.method === 'HEAD';
    const options = {
      origin: this.origin,
      path: this.basePath + req.path,
      method: req.method,
      headers: req.headers,
      body: req.body,
      headersTimeout: req.timeoutMs,
      bodyTimeout: req.timeoutMs,
    };
    const call = new PoolCall(req.timeoutMs, this.options.maxAnswerBytes, idempotent, options, this, settle);
    if (watched) this.stall?.begin(call);
    this.admission.enter(call);
  }

  /** A call that failed in transport (or was ended by its deadline or a stall): logged once, as an HttpError. */
  private failed(call: PoolCall, req: PoolRequest, err: unknown): HttpError {
    const { title } = this.options;
    // Ended by a stall (the circuit opened): a read that certainly did nothing, so 503.
    if (call.reason === STALLED) return this.circuitOpen();
    if (err instanceof AnswerTooLarge) return this.tooLarge(call, req, err);
    this.breaker.failure();
    // By name, not `instanceof Error`: the deadline's DOMException may come from another realm.
    const name = (err as { name?: unknown } | null)?.name;
    const timedOut =
      err instanceof undiciErrors.HeadersTimeoutError ||
      err instanceof undiciErrors.BodyTimeoutError ||
      name === 'TimeoutError' ||
      name === 'AbortError';
    this.stall?.end(call, !timedOut);
    if (call.reason !== undefined && !call.sent) {
      // Its deadline passed while it waited for one of the pool's connections: nothing was sent,
      // and a retry would only queue behind the same calls, so it is a 503 the caller does not retry.
      this.logger.warn(
        { upstream: this.options.name, method: req.method, path: req.path.split('?')[0] },
        'upstream pool saturated',
      );
      return new HttpError('upstream_unavailable', `${title} is busy`, { headers: { 'retry-after': '1' } });
    }
    this.logger.warn(
      {
        upstream: this.options.name,
        method: req.method,
        path: req.path.split('?')[0],
        ms: Math.round(performance.now() - call.started),
        error: typeof name === 'string' ? name : 'error',
      },
      'upstream call failed',
    );
    return timedOut
      ? new HttpError('upstream_timeout', `${title} timed out`, { transient: true })
      : new HttpError('upstream_unavailable', `${title} is unavailable`, {
          transient: true,
          headers: { 'retry-after': '1' },
        });
  }

  /**
   * An answer longer than the pool reads. The upstream answered: the breaker records its status
   * as for any answer (which also ends a half-open breaker's trial call), the stall watch sees an
   * answer, and the caller gets a 502 it does not retry (the same bytes would come again).
   */
  private tooLarge(call: PoolCall, req: PoolRequest, err: AnswerTooLarge): HttpError {
    this.answered(call, call.answerStatus);
    upstreamAnswersTooLarge.inc({ upstream: this.options.name });
    this.logger.warn(
      { upstream: this.options.name, method: req.method, path: req.path.split('?')[0], limit: err.limit },
      'upstream answer too large',
    );
    return new HttpError('upstream_error', `${this.options.title} answered more than the gateway accepts`);
  }

  /** The upstream answered `status`: the stall watch saw an answer, the breaker records it (a 5xx as a failure). */
  private answered(call: PoolCall, status: number): void {
    this.stall?.end(call, true);
    if (status >= 500) this.breaker.failure();
    else this.breaker.success();
  }

  private circuitOpen(): HttpError {
    return new HttpError('upstream_unavailable', `${this.options.title} is unavailable`, {
      headers: { 'retry-after': String(this.breaker.retryAfterSeconds()) },
    });
  }

  /** A frozen upstream: refuse new calls now, and end the idempotent ones waiting on it. */
  private checkStall(): void {
    if (!this.stall || this.breaker.current !== 'closed' || !this.stall.stalled()) return;
    this.breaker.trip();
    const aborted = this.stall.abortIdempotent(STALLED);
    this.logger.warn({ upstream: this.options.name, aborted }, 'upstream answers nothing: circuit opened');
  }

  /** Readiness (informational): the status of `path`, outside the breaker and without retries. */
  probe(path: string, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.start({ method: 'GET', path, headers: {}, timeoutMs }, false, (_call, err, answer) => {
        if (err === undefined) resolve(answer!.status);
        else reject(err instanceof Error ? err : new Error('probe failed'));
      });
    });
  }

  /** Waits for calls in flight and waiting, then closes the pool. */
  async close(): Promise<void> {
    this.admission.flush();
    await this.dispatcher.close();
    this.untrack();
  }
}
