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
