/**
 * A Map with at most `limit` entries that evicts the least recently used one, so caches and
 * counters keyed by client input (tokens, IPs, e-mails) cannot grow memory without bound.
 */
export class LruMap<K, V> {
  private readonly map = new Map<K, V>();

  constructor(private readonly limit: number) {}

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      // Map keeps insertion order: re-inserting marks the entry as the most recently used.
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    if (this.map.size >= this.limit) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
    this.map.set(key, value);
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
