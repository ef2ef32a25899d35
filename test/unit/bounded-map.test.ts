import { LruMap } from '../../src/lib/bounded-map';

describe('LruMap', () => {
  it('never holds more than its limit, evicting the least recently used entry', () => {
    const map = new LruMap<string, number>(3);
    for (const k of ['a', 'b', 'c']) map.set(k, k.charCodeAt(0));
    expect(map.get('a')).toBe(97); // a is now the most recently used
    map.set('d', 100);
    expect(map.size).toBe(3);
    expect(map.get('b')).toBeUndefined();
    expect(map.get('a')).toBe(97);
    for (let i = 0; i < 10_000; i++) map.set(`rotating-${i}`, i);
    expect(map.size).toBe(3);
  });

  it('moves an entry on a hit only once it has aged past half the map, and keeps it that long after', () => {
    const map = new LruMap<string, number>(4);
    for (const k of ['a', 'b', 'c', 'd']) map.set(k, 0);
    // d is recent: a hit leaves it where it is. a has aged past half the map: a hit moves it.
    expect([map.get('d'), map.get('a')]).toEqual([0, 0]);
    map.set('e', 0); // evicts b, the least recently used
    expect(map.get('b')).toBeUndefined();
    // a was moved after d: c, then d, go before it.
    map.set('f', 0);
    map.set('g', 0);
    expect([map.get('c'), map.get('d'), map.get('a')]).toEqual([undefined, undefined, 0]);
    // A hit while recent does not move it, but it still outlives limit / 2 insertions.
    map.set('h', 0);
    map.set('i', 0);
    expect(map.get('a')).toBe(0);
  });

  it('leaves an entry where it is on a hit while it is recent', () => {
    const map = new LruMap<string, number>(4);
    for (const k of ['a', 'b', 'c', 'd']) map.set(k, 0);
    expect(map.get('c')).toBe(0); // recent: not moved (a strict LRU would move it after d)
    for (const k of ['e', 'f', 'g']) map.set(k, 0); // evicts a, b, then c, the oldest by insertion
    expect([map.get('c'), map.get('d')]).toEqual([undefined, 0]);
  });

  it('updates in place without evicting', () => {
    const map = new LruMap<string, number>(2);
    map.set('a', 1);
    map.set('b', 2);
    map.set('a', 3);
    expect([map.get('a'), map.get('b'), map.size]).toEqual([3, 2, 2]);
    expect(map.delete('a')).toBe(true);
    expect(map.size).toBe(1);
  });
});
