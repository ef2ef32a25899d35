import { CrashBackoff } from '../../src/chat/connection';

describe('CrashBackoff', () => {
  it('rebuilds at once after a first crash, then waits 100 ms doubling up to 1 s', () => {
    const backoff = new CrashBackoff();
    expect(Array.from({ length: 7 }, () => backoff.next())).toEqual([0, 100, 200, 400, 800, 1_000, 1_000]);
  });

  it('starts over once the consumer has been positioned again', () => {
    const backoff = new CrashBackoff();
    backoff.next();
    backoff.next();
    backoff.reset();
    expect([backoff.next(), backoff.next()]).toEqual([0, 100]);
  });
});
