/** What Admission holds: a call that knows whether it has ended. */
export interface Admissible {
  /** Set by Admission when the call goes to the dispatcher. */
  admitted: boolean;
  /** True once the call has settled (answered, failed, or ended by its deadline). */
  readonly ended: boolean;
}

/**
 * At most `limit` calls of one upstream pool in the dispatcher at once (its connection count); the
 * rest wait here, oldest first. undici queues calls past its connections itself, but a queued call
 * that is aborted (its deadline passed while it waited) still costs the pool a connection: undici
 * destroys the socket it reaches to abort a request it has not written. A call that ends while it
 * waits here is simply skipped when its turn comes, and no connection is lost.
 */
export class Admission<T extends Admissible> {
  private active = 0;
  private queue: T[] = [];
  private head = 0;

  constructor(
    private readonly limit: number,
    private readonly dispatch: (call: T) => void,
  ) {}

  /** Calls waiting for a place (ended ones not yet skipped included). */
  get waiting(): number {
    return this.queue.length - this.head;
  }

  /** Dispatches `call` now, or queues it while `limit` calls are in the dispatcher. */
  enter(call: T): void {
    if (this.active < this.limit) this.admit(call);
    else this.queue.push(call);
  }

  /** `call` has ended: its place goes to the oldest waiting call that has not ended meanwhile. */
  leave(call: T): void {
    if (!call.admitted) return; // it ended while waiting; skipped when its turn comes
    this.active -= 1;
    this.next();
  }

  /** Dispatches every waiting call now, past the limit (on close: the dispatcher then waits for them all). */
  flush(): void {
    while (this.head < this.queue.length) {
      const call = this.queue[this.head++]!;
      if (!call.ended) this.admit(call);
    }
    this.queue.length = 0;
    this.head = 0;
  }

  private next(): void {
    while (this.active < this.limit && this.head < this.queue.length) {
      const call = this.queue[this.head++]!;
      if (!call.ended) this.admit(call);
    }
    if (this.head === this.queue.length) {
      if (this.head > 0) {
        this.queue.length = 0;
        this.head = 0;
      }
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private admit(call: T): void {
    this.active += 1;
    call.admitted = true;
    this.dispatch(call);
  }
}
