import { Fifo } from '../lib/fifo';

/** What Admission holds: a call that knows whether it has ended. */
export interface Admissible {
  /** Set by Admission when the call goes to the dispatcher. */
  admitted: boolean;
  /** True once the call has settled (answered, failed, or ended by its deadline). */
  readonly ended: boolean;
  /** Its deadline on `performance.now()`'s clock. */
  readonly expiresAt: number;
}

/**
 * At most `limit` calls of one upstream pool in the dispatcher at once (its connection count); the
 * rest wait here, oldest first. undici queues calls past its connections itself, but a queued call
 * that is aborted (its deadline passed while it waited) still costs the pool a connection: undici
 * destroys the socket it reaches to abort a request it has not written. A call that ends, or whose
 * deadline passes, while it waits here is skipped when its turn comes and never reaches undici.
 *
 * A freed place is handed on in a microtask, not inside `leave()`: calls end in batches (a deadline
 * timer aborting every late call, a stalled upstream's GETs aborted together), and a waiting call
 * admitted in the middle of a batch would be handed to undici only to be aborted by the same batch.
 */
export class Admission<T extends Admissible> {
  private running = 0;
  private readonly queue = new Fifo<T>();
  private pumping = false;

  constructor(
    private readonly limit: number,
    private readonly dispatch: (call: T) => void,
  ) {}

  /** Calls dispatched and not yet ended. */
  get active(): number {
    return this.running;
  }

  /** Calls waiting for a place (ended ones not yet skipped included). */
  get waiting(): number {
    return this.queue.size;
  }

  /** Dispatches `call` now, or queues it behind the calls already waiting. */
  enter(call: T): void {
    if (this.running < this.limit && this.waiting === 0) this.admit(call);
    else this.queue.push(call);
  }

  /** `call` has ended: its place goes to the oldest waiting call still worth sending. */
  leave(call: T): void {
    if (!call.admitted) return; // it ended while waiting; skipped when its turn comes
    this.running -= 1;
    if (this.waiting > 0 && !this.pumping) {
      this.pumping = true;
      queueMicrotask(() => {
        this.pumping = false;
        this.next(false);
      });
    }
  }

  /** Dispatches every waiting call now, past the limit (on close: the dispatcher then waits for them all). */
  flush(): void {
    this.next(true);
  }

  private next(all: boolean): void {
    const now = performance.now();
    while ((all || this.running < this.limit) && this.queue.size > 0) {
      const call = this.queue.shift()!;
      // Past its deadline: the pool's deadlines end it; sending it now would only cost a socket.
      if (!call.ended && call.expiresAt > now) this.admit(call);
    }
  }

  private admit(call: T): void {
    this.running += 1;
    call.admitted = true;
    this.dispatch(call);
  }
}
