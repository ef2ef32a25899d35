import { swapRemove } from '../lib/swap-remove';

/** What the watch holds: a call in flight (src/upstreams/pool-call.ts). */
export interface WatchedCall {
  /** When it began, on `performance.now()`'s clock (the watch's own). */
  readonly started: number;
  /** An idempotent call (GET), safe to abort: it changes nothing upstream. */
  readonly idempotent: boolean;
  abort(reason: unknown): void;
  /** Its index in the StallWatch holding it, -1 when in none (kept by StallWatch). */
  stallSlot: number;
}

/**
 * The calls in flight to one upstream, to tell a frozen upstream from a slow one: a process that
 * is stopped (SIGSTOP) or wedged accepts connections and never answers, so every call would wait
 * for its whole deadline before the breaker counted a single failure. Stalled means at least
 * `minStuck` calls have waited longer than `stallMs` and no call at all was answered meanwhile.
 */
export class StallWatch {
  /**
   * The calls in flight, each knowing its index (a call that ends is replaced by the last one).
   * Not a Set: a Set's table is rebuilt every few adds and deletes, and V8 links each replaced
   * table to its successor. The dead tables, once promoted, pointed at every newer table and the
   * calls in it, so the young collector kept whole finished requests alive until the next full
   * collection. That was about 4 MB promoted per scavenge, and 20 µs per request of garbage
   * collection (docs/performance.md).
   */
  private readonly calls: WatchedCall[] = [];
  private lastAnswerAt: number;
  /** Runs `check` while calls are in flight: one timer for the pool, not one per call. */
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stallMs: number,
    private readonly minStuck: number,
    /** Looks at the calls again (clients may send nothing new while the upstream is frozen). */
    private readonly check: () => void,
  ) {
    this.lastAnswerAt = performance.now();
  }

  /** Registers a call in flight. */
  begin(call: WatchedCall): void {
    call.stallSlot = this.calls.length;
    this.calls.push(call);
    // A call has waited the stall bound within one and a half bounds of starting.
    this.timer ??= setInterval(() => this.tick(), Math.max(1, this.stallMs / 2)).unref();
  }

  /** The call is over (`answered`: the upstream said something). */
  end(call: WatchedCall, answered: boolean): void {
    this.remove(call);
    if (answered) this.lastAnswerAt = performance.now();
  }

  /** Calls in flight (tests). */
  get size(): number {
    return this.calls.length;
  }

  private remove(call: WatchedCall): void {
    const slot = call.stallSlot;
    if (slot < 0 || this.calls[slot] !== call) return;
    const moved = swapRemove(this.calls, slot);
    if (moved !== undefined) moved.stallSlot = slot;
    call.stallSlot = -1;
  }

  private tick(): void {
    if (this.calls.length === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    this.check();
  }

  stalled(): boolean {
    const since = performance.now() - this.stallMs;
    if (this.lastAnswerAt > since) return false;
    let stuck = 0;
    for (const c of this.calls) if (c.started <= since && ++stuck >= this.minStuck) return true;
    return false;
  }

  /**
   * Aborts the idempotent calls in flight (their callers answer at once instead of at the deadline);
   * the others keep waiting: they may have changed something upstream, and their answer says what.
   */
  abortIdempotent(reason: unknown): number {
    let n = 0;
    // Backwards: removing a call moves the last one, already seen, into its place.
    for (let i = this.calls.length - 1; i >= 0; i--) {
      const c = this.calls[i];
      if (c === undefined || !c.idempotent) continue;
      this.remove(c);
      c.abort(reason);
      n += 1;
    }
    return n;
  }
}
