/**
 * A Map with at most `limit` entries that evicts the least recently used one, so caches and
 * counters keyed by client input (tokens, IPs, e-mails) cannot grow memory without bound.
 *
 * Recency is kept by insertion order, and a hit moves its entry to the newest end only once the
 * entry has aged past half the map (`limit / 2` insertions or moves since its last one). A hit on a
 * recent entry, the common case, changes nothing: moving it on every hit (delete, then set) made
 * V8 rebuild the Map's table every few requests. The price: an entry hit while in the newer half
 * is kept for at least `limit / 2` more insertions or moves, not `limit - 1`; a key hit at least
 * once every `limit / 2` of them is never evicted, and the map never holds more than `limit`.
 */
export class LruMap<K, V> {
  private readonly map = new Map<K, { value: V; at: number }>();
  /** Counts insertions and moves: an entry's `at` is its place in the Map's order. */
  private clock = 0;

  constructor(private readonly limit: number) {}

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    const entry = this.map.get(key);
    if (entry === undefined) return undefined;
    if (this.clock - entry.at > this.limit / 2) {
      this.map.delete(key);
      entry.at = ++this.clock;
      this.map.set(key, entry);
    }
    return entry.value;
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    if (this.map.size >= this.limit) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
    this.map.set(key, { value, at: ++this.clock });
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }
}

/**
 * Sets `key` in a Map used as a cache, first evicting the oldest entry (insertion order) when the
 * map already holds `limit` entries, so per-token caches cannot grow without bound.
 */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, limit: number): void {
  if (!map.has(key) && map.size >= limit) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
  map.set(key, value);
}

/**
 * Appends to a log that keeps only its newest `max` entries (trimmed in chunks, so appending
 * stays cheap). For the fakes' call logs, which tests read and long benchmark runs fill.
 */
export function pushBounded<T>(log: T[], item: T, max: number): void {
  log.push(item);
  if (log.length > max * 2) log.splice(0, log.length - max);
}
