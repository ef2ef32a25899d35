import type { HttpError } from '../errors';
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

/**
 * The calls of this process waiting for a reply, by request id. Several waits may share one id
 * (a retry of a logical request while its first try still waits), each with its own deadline.
 * Ended ids are remembered for a while (above), so a reply after the end is counted as late or
 * duplicate rather than as another instance's.
 */
export class PendingCalls {
  private readonly calls = new Map<string, PendingCall>();
  private readonly answered = new Set<string>();
  private readonly unanswered = new Map<string, Exclude<Finished, 'answered'>>();

  constructor(private readonly metrics: ChatMetrics) {}

  /** The operation a pending request id waits for; undefined when none waits. */
  operationOf(requestId: string): ChatOperation | undefined {
    return this.calls.get(requestId)?.operation;
  }

  /** How a request id that no longer waits ended, while it is remembered. */
  endedAs(requestId: string): Finished | undefined {
    return this.unanswered.get(requestId) ?? (this.answered.has(requestId) ? 'answered' : undefined);
  }

  /**
   * Waits for the reply to `requestId` for `timeoutMs` (then 504). `sent` is the send of this
   * try: when it fails, every wait of the id fails with its error, unless the id was settled since.
   */
  wait(requestId: string, operation: ChatOperation, timeoutMs: number, sent: Promise<void>): Promise<unknown> {
    let entry = this.calls.get(requestId);
    if (!entry) {
      entry = { operation, started: Date.now(), waiters: new Set() };
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
    sent.catch((error: HttpError) => {
      if (this.calls.get(requestId) === call) this.settle(requestId, { ok: false, error }, 'failed');
    });
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
    if (how === 'answered') {
      this.answered.add(requestId);
      if (this.answered.size > REMEMBERED_ANSWERED) this.answered.delete(this.answered.values().next().value!);
    } else {
      this.unanswered.set(requestId, how);
      if (this.unanswered.size > REMEMBERED_UNANSWERED) this.unanswered.delete(this.unanswered.keys().next().value!);
    }
  }

  private forget(requestId: string): void {
    this.answered.delete(requestId);
    this.unanswered.delete(requestId);
  }

  private end(requestId: string, how: Finished): void {
    if (this.calls.delete(requestId)) this.metrics.pending.dec();
    this.remember(requestId, how);
  }
}
