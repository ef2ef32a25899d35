import { Deadlines, type Expiring } from '../../src/upstreams/deadlines';

/**
 * The pool's deadlines (src/upstreams/deadlines.ts): one timer for every call in flight, each
 * call aborted at its own deadline and never after it has ended, whatever order calls end in.
 */
class Call implements Expiring {
  deadlineSlot = -1;
  abortedAt: number | undefined;
  readonly expiresAt: number;
  constructor(
    readonly name: string,
    ms: number,
    private readonly onAbort?: () => void,
  ) {
    this.expiresAt = performance.now() + ms;
  }
  abort(): void {
    this.abortedAt = performance.now();
    this.onAbort?.();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Deadlines', () => {
  it('aborts each call at its own deadline, never one that ended, and holds nothing after', async () => {
    const deadlines = new Deadlines<Call>();
    const calls = [60, 20, 100, 40, 20, 80].map((ms, i) => new Call(`c${i}`, ms));
    for (const c of calls) deadlines.add(c);
    // Calls end in any order before their deadlines: the first, one in the middle, the last added.
    for (const i of [0, 3, 5]) deadlines.end(calls[i]!);
    deadlines.end(calls[3]!); // twice: no effect
    expect(deadlines.size).toBe(3);
    await sleep(160);
    expect(calls.filter((c) => c.abortedAt !== undefined).map((c) => c.name)).toEqual(['c1', 'c2', 'c4']);
    for (const c of [calls[1]!, calls[2]!, calls[4]!]) expect(c.abortedAt!).toBeGreaterThanOrEqual(c.expiresAt - 1);
    expect(deadlines.size).toBe(0);
  });

  it('lets an aborted call end another call while the deadlines are being read', async () => {
    const deadlines = new Deadlines<Call>();
    const survivor = new Call('survivor', 30);
    const first = new Call('first', 10, () => deadlines.end(survivor));
    const other = new Call('other', 10);
    for (const c of [survivor, first, other]) deadlines.add(c);
    await sleep(60);
    expect([first.abortedAt !== undefined, other.abortedAt !== undefined, survivor.abortedAt]).toEqual([
      true,
      true,
      undefined,
    ]);
    expect(deadlines.size).toBe(0);
  });
});
