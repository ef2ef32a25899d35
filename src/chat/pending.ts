import type { HttpError } from '../errors';
import { setBounded } from '../lib/bounded-map';
import { chatTimeout } from './errors';
import type { ChatMetrics } from './metrics';
import type { ChatOperation } from './operations';

/** How a request id ended here, to tell a duplicate reply from a late one. */
export type Finished = 'answered' | 'expired' | 'cancelled' | 'failed';

interface Waiter {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

interface PendingCall {
  operation: ChatOperation;
  started: number;
  waiters: Set<Waiter>;
  /** A try of this id reached the producer, so a reply may still come after it ends. */
  reached: boolean;
}

/** The outcome of one reply for every wait of its request id. */
export type ReplyOutcome = { ok: true; value: unknown } | { ok: false; error: HttpError };

/**
 * Answered ids are remembered to call a second reply to one of them a duplicate; a redelivery
 * comes within moments, and at 300 answers a second this is 6–7 s of them. Ids that ended without
 * an answer are remembered longer, to call a reply after the deadline late: they are few unless
 * the chat service is slow. At 20,000 answered ids this had held about 3 MB of heap for good.
 */
export const REMEMBERED_ANSWERED = 2_000;
export const REMEMBERED_UNANSWERED = 20_000;

const notSent = new WeakSet<Error>();

/** Marks the failure of a send that never reached the producer (link down, message too large). */
export function neverSent<E extends Error>(error: E): E {
  notSent.add(error);
  return error;
}

/** Whether `error` failed a send before it reached the producer: no reply can come for it. */
export function wasNeverSent(error: unknown): boolean {
  return error instanceof Error && notSent.has(error);
}

/**
 * The calls of this process waiting for a reply, by request id. Several waits may share one id
 * (a retry of a logical request while its first try still waits), each with its own deadline.
 * Ended ids are remembered for a while (above), so a reply after the end is counted as late or
 * duplicate rather than as another instance's; an id whose sends never left the process is not.
 */
export class PendingCalls {
  private readonly calls = new Map<string, PendingCall>();
  private readonly answered = new Map<string, Finished>();
  private readonly unanswered = new Map<string, Finished>();

  constructor(private readonly metrics: ChatMetrics) {}

  /** The operation a pending request id waits for; undefined when none waits. */
  operationOf(requestId: string): ChatOperation | undefined {
    return this.calls.get(requestId)?.operation;
  }

  /** How a request id that no longer waits ended, while it is remembered. */
  endedAs(requestId: string): Finished | undefined {
    return this.unanswered.get(requestId) ?? this.answered.get(requestId);
  }

  /**
   * Waits for the reply to `requestId` for `timeoutMs` (then 504). `sent` is the send of this
   * try: when it fails, every wait of the id fails with its error, unless the id was settled since.
   */
  wait(requestId: string, operation: ChatOperation, timeoutMs: number, sent: Promise<void>): Promise<unknown> {
    let entry = this.calls.get(requestId);
    if (!entry) {
      entry = { operation, started: Date.now(), waiters: new Set(), reached: false };
      this.calls.set(requestId, entry);
      this.forget(requestId);
      this.metrics.pending.inc();
    }
    const call = entry;
    const reply = new Promise<unknown>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          call.waiters.delete(waiter);
          if (call.waiters.size === 0) this.end(requestId, 'expired');
          this.metrics.requests.inc({ operation, outcome: 'upstream_timeout' });
          reject(chatTimeout());
        }, timeoutMs),
      };
      call.waiters.add(waiter);
    });
    sent.then(
      () => {
        call.reached = true;
      },
      (error: HttpError) => {
        if (!wasNeverSent(error)) call.reached = true;
        if (this.calls.get(requestId) === call) this.settle(requestId, { ok: false, error }, 'failed');
      },
    );
    return reply;
  }

  /** Settles every wait of `requestId` with `outcome` and counts it. */
  settle(requestId: string, outcome: ReplyOutcome, how: Finished): void {
    const call = this.calls.get(requestId);
    if (!call) return;
    for (const w of call.waiters) {
      clearTimeout(w.timer);
      if (outcome.ok) w.resolve(outcome.value);
      else w.reject(outcome.error);
    }
    this.metrics.requests.inc({ operation: call.operation, outcome: outcome.ok ? 'success' : outcome.error.code });
    if (how === 'answered') {
      this.metrics.duration.observe({ operation: call.operation }, (Date.now() - call.started) / 1000);
    }
    this.end(requestId, how);
  }

  /** Fails every wait (shutdown). */
  failAll(error: HttpError): void {
    for (const requestId of [...this.calls.keys()]) this.settle(requestId, { ok: false, error }, 'failed');
  }

  remember(requestId: string, how: Finished): void {
    this.forget(requestId);
    if (how === 'answered') setBounded(this.answered, requestId, how, REMEMBERED_ANSWERED);
    else setBounded(this.unanswered, requestId, how, REMEMBERED_UNANSWERED);
  }

  private forget(requestId: string): void {
    this.answered.delete(requestId);
    this.unanswered.delete(requestId);
  }

  /** Ends the call; its id is remembered unless it failed before any try reached the producer. */
  private end(requestId: string, how: Finished): void {
    const call = this.calls.get(requestId);
    if (call) {
      this.calls.delete(requestId);
      this.metrics.pending.dec();
    }
    if (how !== 'failed' || call?.reached !== false) this.remember(requestId, how);
  }
}
