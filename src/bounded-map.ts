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
