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
