import type { Dispatcher } from 'undici';
import type { Admission } from './admission';
import type { Deadlines } from './deadlines';

/** The answer of one upstream call: status, headers and the whole body. */
export interface PoolAnswer<T = Buffer> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
}

/** How a call ends: with the answer, or with an error (`err` undefined on an answer). */
export type PoolSettle = (call: PoolCall, err: unknown, answer?: PoolAnswer) => void;

const EMPTY = Buffer.alloc(0);

/** The longest upstream answer read unless configured otherwise: 8 MiB, far above any JSON answer in the contracts. */
export const DEFAULT_MAX_ANSWER_BYTES = 8 * 1024 * 1024;
/** The most an answer limit may be set to (AUTH_SERVICE_MAX_ANSWER_BYTES, a route-table upstream's max_answer_bytes). */
export const MAX_ANSWER_BYTES_CEILING = 256 * 1024 * 1024;

/** Why a call was ended: its upstream answered more bytes than its pool accepts (`maxAnswerBytes`). */
export class AnswerTooLarge extends Error {
  override readonly name = 'AnswerTooLarge';
  constructor(readonly limit: number) {
    super(`the upstream answered more than ${limit} bytes`);
  }
}

/** The pool's side of its calls: their deadlines, and their places in its admission (see Admission). */
export interface CallOwner {
  readonly deadlines: Deadlines<PoolCall>;
  readonly admission: Admission<PoolCall>;
}

/**
 * One call in flight on undici's dispatch API (`Dispatcher.dispatch(options, handler)`): the
 * handler that buffers the answer, its deadline (see Deadlines) and its entry in the stall watch,
 * in one object. undici's `request()` made a Readable stream for every body, a `RequestHandler`
 * and an abort-signal listener per call, and every buffered read went through the stream; this is
 * one object and one array of chunks.
 *
 * It settles once: with the answer when undici ends the response, with an error when undici
 * reports one, or at once with `reason` when `abort` is called (the deadline, a stalled upstream)
 * even while the request still waits in the pool for a connection (undici aborts it as soon as it
 * reaches one). An answer longer than `maxBytes` is not read further: the call ends with
 * `AnswerTooLarge` as soon as its Content-Length or the bytes received say so, so one upstream
 * cannot make the gateway buffer an unbounded body. From creation to end it is in its pool's
 * deadlines, and it gives its place in the pool's admission back when it ends.
 */
export class PoolCall implements Dispatcher.DispatchHandler {
  readonly started = performance.now();
  readonly expiresAt: number;
  /** Why the gateway ended the call (deadline, stall); undefined while it runs or when undici ended it. */
  reason: unknown = undefined;
  /** Handed to the dispatcher (see Admission); false while it waits for a place. */
  admitted = false;
  /** Its index in the pool's deadlines (see Deadlines). */
  deadlineSlot = -1;
  /** Its index in the pool's stall watch (see StallWatch). */
  stallSlot = -1;
  private controller: Dispatcher.DispatchController | null = null;
  private status = 0;
  private headers: Record<string, string | string[] | undefined> = {};
  private chunks: Buffer[] = [];
  private received = 0;
  private done = false;

  constructor(
    timeoutMs: number,
    /** The most answer bytes buffered; more ends the call with AnswerTooLarge. */
    private readonly maxBytes: number,
    /** An idempotent call (GET, HEAD): safe to abort on a stall, it changes nothing upstream. */
    readonly idempotent: boolean,
    /** What undici is given when the call is admitted. */
    readonly options: Dispatcher.DispatchOptions,
    private readonly owner: CallOwner,
    private readonly settle: PoolSettle,
  ) {
    this.expiresAt = this.started + timeoutMs;
    owner.deadlines.add(this);
  }

  /** Whether it has settled. */
  get ended(): boolean {
    return this.done;
  }

  /** The answer's status once its headers came (0 before). */
  get answerStatus(): number {
    return this.status;
  }

  /** Whether undici took the call to a connection (it may have sent something). */
  get sent(): boolean {
    return this.controller !== null;
  }

  /** Ends the call now with `reason` (a deadline's TimeoutError, a stall). */
  abort(reason: unknown): void {
    if (this.done) return;
    this.reason = reason;
    this.controller?.abort(reason as Error);
    this.finish(reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.reason !== undefined) controller.abort(this.reason as Error);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    // 1xx informational answers come first and are not the answer.
    if (statusCode < 200) return;
    this.status = statusCode;
    this.headers = headers;
    // A HEAD, 204 or 304 answer may announce a length that no body follows.
    const length = headers['content-length'];
    const bodyFollows = this.options.method !== 'HEAD' && statusCode !== 204 && statusCode !== 304;
    if (bodyFollows && typeof length === 'string' && Number(length) > this.maxBytes) {
      this.abort(new AnswerTooLarge(this.maxBytes));
    }
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.done) return;
    this.received += chunk.length;
    if (this.received > this.maxBytes) this.abort(new AnswerTooLarge(this.maxBytes));
    else this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    const { chunks } = this;
    const body = chunks.length === 1 ? chunks[0]! : chunks.length === 0 ? EMPTY : Buffer.concat(chunks);
    this.finish(undefined, { status: this.status, headers: this.headers, body });
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, err: Error): void {
    this.finish(err);
  }

  private finish(err: unknown, answer?: PoolAnswer): void {
    if (this.done) return;
    this.done = true;
    this.chunks = [];
    this.owner.deadlines.end(this);
    this.owner.admission.leave(this);
    this.settle(this, err, answer);
  }
}
