import { StallWatch, type WatchedCall } from '../../src/upstreams/stall-watch';

/**
 * src/upstreams/stall-watch.ts keeps its calls in an array, each call knowing its slot: ends in any
 * order leave exactly the calls still in flight, a stall aborts the idempotent ones only, and an
 * answer from any call means no stall.
 */
class Call implements WatchedCall {
  stallSlot = -1;
  aborted: unknown = undefined;
  constructor(
    readonly name: string,
    readonly idempotent: boolean,
    readonly started: number,
    private readonly onAbort?: (call: Call) => void,
  ) {}
  abort(reason: unknown): void {
    this.aborted = reason;
    this.onAbort?.(this);
  }
}

describe('StallWatch', () => {
  it('keeps exactly the calls still in flight, whatever order they end in', () => {
    const watch = new StallWatch(1_000, 1, () => undefined);
    const calls = Array.from({ length: 50 }, (_, i) => new Call(`c${i}`, true, 0));
    for (const c of calls) watch.begin(c);
    const ended = new Set<Call>();
    for (const i of [0, 49, 25, 1, 48, 24, 26, 10, 10, 3]) {
      watch.end(calls[i]!, true);
      ended.add(calls[i]!);
    }
    expect(watch.size).toBe(50 - ended.size);
    for (const c of calls) expect(c.stallSlot >= 0).toBe(!ended.has(c));
    // An ended call that ends again (its failure path also reports it) changes nothing.
    watch.end(calls[0]!, false);
    expect(watch.size).toBe(50 - ended.size);
  });

  it('tells a frozen upstream from a slow one, and aborts only the idempotent calls on a stall', () => {
    const reason = new Error('stalled');
    const watch = new StallWatch(50, 2, () => undefined);
    const long = performance.now() - 10_000;
    // An abort ends the call the way the pool does: it leaves the watch from its own callback.
    const calls = [
      new Call('get-1', true, long, (c) => watch.end(c, false)),
      new Call('post', false, long),
      new Call('get-2', true, long, (c) => watch.end(c, false)),
      new Call('get-new', true, performance.now()),
    ];
    for (const c of calls) watch.begin(c);
    // Answered a moment ago: a slow upstream, not a frozen one.
    watch.end(new Call('answered', true, long), true);
    expect(watch.stalled()).toBe(false);
    return new Promise<void>((resolve) =>
      setTimeout(() => {
        expect(watch.stalled()).toBe(true);
        expect(watch.abortIdempotent(reason)).toBe(3);
        expect(calls.map((c) => c.aborted === reason)).toEqual([true, false, true, true]);
        expect(watch.size).toBe(1);
        expect(calls[1]!.stallSlot).toBe(0);
        resolve();
      }, 80),
    );
  });
});
