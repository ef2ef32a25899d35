import { LruMap } from '../lib/bounded-map';

/** Keys one counter remembers (least recently used evicted), so rotating callers cannot grow memory. */
const KEYS_PER_COUNTER = 10_000;

/** Fixed-window counters in memory for a table route's per-user limit; each replica counts on its own. */
export class WindowCounter {
  private readonly counts = new LruMap<string, { n: number; resetAt: number }>(KEYS_PER_COUNTER);

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  /** Counts a hit; answers seconds to wait when over the limit, else 0. */
  hit(key: string, now = Date.now()): number {
    let c = this.counts.get(key);
    if (!c || c.resetAt <= now) {
      c = { n: 0, resetAt: now + this.windowMs };
      this.counts.set(key, c);
    }
    c.n += 1;
    return c.n > this.max ? Math.ceil((c.resetAt - now) / 1000) : 0;
  }
}
