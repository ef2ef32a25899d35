/** What Deadlines holds: a call with a deadline that it ends with `abort(reason)`. */
export interface Expiring {
  readonly expiresAt: number;
  abort(reason: unknown): void;
}

/**
 * The deadlines of one upstream pool's calls in flight behind one timer, armed for the earliest of
 * them, instead of an AbortController and a setTimeout per call (about 1.6 % of the direct path's
 * CPU, docs/performance.md). Calls share a timeout, so a new call rarely moves the timer; when it
 * fires, every call past its deadline is aborted with a `TimeoutError` and the timer is armed for
 * the next one.
 */
export class Deadlines<T extends Expiring = Expiring> {
  private readonly live = new Set<T>();
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;

  add(call: T): void {
    this.live.add(call);
    if (call.expiresAt < this.armedFor) this.arm(call.expiresAt);
  }

  /** The call is over: its deadline no longer matters (the timer stops by itself once none is left). */
  end(call: T): void {
    this.live.delete(call);
  }

  /** Calls in flight (tests). */
  get size(): number {
    return this.live.size;
  }

  private arm(at: number): void {
    clearTimeout(this.timer);
    this.armedFor = at;
    // Unreferenced: a call in flight keeps the process alive through its socket, not through this timer.
    this.timer = setTimeout(() => this.expire(), Math.max(0, at - performance.now()));
    this.timer.unref();
  }

  private expire(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const call of this.live) {
      if (call.expiresAt <= now) {
        this.live.delete(call);
        call.abort(new DOMException('timed out', 'TimeoutError'));
      } else if (call.expiresAt < next) next = call.expiresAt;
    }
    if (next !== Infinity) this.arm(next);
  }
}
