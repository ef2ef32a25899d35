import { CrashBackoff } from '../../src/chat/connection';

describe('CrashBackoff', () => {
  it('rebuilds at once after a first crash, then waits 100 ms doubling up to 1 s', () => {
    const backoff = new CrashBackoff();
    expect(Array.from({ length: 7 }, () => backoff.next(0))).toEqual([0, 100, 200, 400, 800, 1_000, 1_000]);
  });

  it('starts over once a consumer has stayed positioned for 5 s', () => {
    const backoff = new CrashBackoff(5_000);
    backoff.next(0);
    backoff.next(100);
    backoff.positioned(1_000);
    expect([backoff.next(6_000), backoff.next(6_100)]).toEqual([0, 100]);
  });

  it('keeps backing off a consumer that crashes soon after it was positioned', () => {
    const backoff = new CrashBackoff(5_000);
    backoff.next(0);
    backoff.positioned(100);
    expect(backoff.next(300)).toBe(100);
    backoff.positioned(600);
    expect(backoff.next(900)).toBe(200);
  });
});
