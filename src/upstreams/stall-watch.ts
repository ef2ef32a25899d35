interface Call {
  started: number;
  /** An idempotent call (GET), safe to abort: it changes nothing upstream. */
  idempotent: boolean;
  abort(): void;
}

/**
 * The calls in flight to one upstream, to tell a frozen upstream from a slow one: a process that
 * is stopped (SIGSTOP) or wedged accepts connections and never answers, so every call would wait
 * for its whole deadline before the breaker counted a single failure. Stalled means at least
 * `minStuck` calls have waited longer than `stallMs` and no call at all was answered meanwhile.
 */
export class StallWatch {
  private readonly calls = new Set<Call>();
  private lastAnswerAt: number;
  /** Runs `check` while calls are in flight: one timer for the pool, not one per call. */
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stallMs: number,
    private readonly minStuck: number,
    /** Looks at the calls again (clients may send nothing new while the upstream is frozen). */
    private readonly check: () => void,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.lastAnswerAt = this.now();
  }

  /** Registers a call; the returned function ends it (`answered`: the upstream said something). */
  begin(idempotent: boolean, abort: () => void): (answered: boolean) => void {
    const call: Call = { started: this.now(), idempotent, abort };
    this.calls.add(call);
    // A call has waited the stall bound within one and a half bounds of starting.
    this.timer ??= setInterval(() => this.tick(), Math.max(1, this.stallMs / 2)).unref();
    return (answered) => {
      this.calls.delete(call);
      if (answered) this.lastAnswerAt = this.now();
    };
  }

  private tick(): void {
    if (this.calls.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    this.check();
  }

  stalled(): boolean {
    const since = this.now() - this.stallMs;
    if (this.lastAnswerAt > since) return false;
    let stuck = 0;
    for (const c of this.calls) if (c.started <= since && ++stuck >= this.minStuck) return true;
    return false;
  }

  /**
   * Aborts the idempotent calls in flight (their callers answer at once instead of at the deadline);
   * the others keep waiting: they may have changed something upstream, and their answer says what.
   */
  abortIdempotent(): number {
    let n = 0;
    for (const c of this.calls) {
      if (!c.idempotent) continue;
      this.calls.delete(c);
      c.abort();
      n += 1;
    }
    return n;
  }
}
