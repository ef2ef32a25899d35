import { swapRemove } from '../lib/swap-remove';

/** What Deadlines holds: a call with a deadline that it ends with `abort(reason)`. */
export interface Expiring {
  readonly expiresAt: number;
  abort(reason: unknown): void;
  /** Its index in the Deadlines holding it, -1 when in none (kept by Deadlines). */
  deadlineSlot: number;
}

/**
 * The deadlines of one upstream pool's calls in flight behind one timer, armed for the earliest of
 * them, instead of an AbortController and a setTimeout per call (about 1.6 % of the direct path's
 * CPU, docs/performance.md). Calls share a timeout, so a new call rarely moves the timer; when it
 * fires, every call past its deadline is aborted with a `TimeoutError` and the timer is armed for
 * the next one. The calls are kept in an array, each knowing its index (a call that ends is replaced
 * by the last one): a Set's add and delete on every call made V8 rebuild its table every few calls.
 */
export class Deadlines<T extends Expiring = Expiring> {
  private readonly live: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;

  add(call: T): void {
    call.deadlineSlot = this.live.length;
    this.live.push(call);
    if (call.expiresAt < this.armedFor) this.arm(call.expiresAt);
  }

  /** The call is over: its deadline no longer matters (the timer stops by itself once none is left). */
  end(call: T): void {
    const slot = call.deadlineSlot;
    if (slot < 0 || this.live[slot] !== call) return;
    const moved = swapRemove(this.live, slot);
    if (moved !== undefined) moved.deadlineSlot = slot;
    call.deadlineSlot = -1;
  }

  /** Calls in flight (tests). */
  get size(): number {
    return this.live.length;
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
    // Backwards: ending a call moves the last one, already seen, into its place.
    for (let i = this.live.length - 1; i >= 0; i--) {
      const call = this.live[i];
      if (call === undefined) continue;
      if (call.expiresAt <= now) {
        this.end(call);
        call.abort(new DOMException('timed out', 'TimeoutError'));
      } else if (call.expiresAt < next) next = call.expiresAt;
    }
    // A call added by an abort's callback meanwhile may have armed the timer for itself already.
    if (next < this.armedFor) this.arm(next);
  }
}
