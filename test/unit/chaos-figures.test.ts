import { routeFigures, strip, wrongClass, type Window } from '../../chaos/figures';
import type { Sample } from '../../chaos/load';

const T0 = 1_000_000;
const window = (fault: Window['fault']): Window => ({
  fault,
  start: T0 - 5_000,
  inject: T0,
  down: T0 + 1_000,
  heal: T0 + 6_000,
  end: T0 + 10_000,
});
const sample = (over: Partial<Sample>): Sample => ({
  route: 'me',
  replica: 1,
  phase: 'kafka',
  sentAt: T0,
  endAt: T0 + 10,
  status: 200,
  retryAfter: false,
  requestId: 'r',
  ...over,
});

describe('chaos figures', () => {
  it('tells a refusal the contract allows from a wrong status class', () => {
    const w = window('kafka');
    expect(wrongClass(sample({ status: 503, retryAfter: true }), w)).toBe(false);
    expect(wrongClass(sample({ status: 504 }), w)).toBe(false);
    expect(wrongClass(sample({ status: 500 }), w)).toBe(true);
    expect(wrongClass(sample({ status: 401 }), w)).toBe(true);
    expect(wrongClass(sample({ status: 0, note: 'connect ECONNREFUSED' }), w)).toBe(true);
    // An answer stream: its error frame is a refusal; a stream that never ends is not an answer.
    expect(wrongClass(sample({ route: 'ai stream', note: 'error frame' }), w)).toBe(false);
    expect(wrongClass(sample({ route: 'ai stream', note: 'no end within 30 s' }), w)).toBe(true);
    expect(wrongClass(sample({ route: 'ai stream', note: 'done' }), w)).toBe(false);
  });

  it('does not count the requests in flight on the replica killed on purpose', () => {
    const lost = sample({ status: 0, replica: 0, sentAt: T0 + 500 });
    expect(wrongClass(lost, window('replica'))).toBe(false);
    expect(wrongClass({ ...lost, replica: 1 }, window('replica'))).toBe(true);
    expect(wrongClass(lost, window('kafka'))).toBe(true);
  });

  it('measures recovery from the heal to the first 2xx sent after it', () => {
    const w = window('kafka');
    const rs = [
      sample({ sentAt: T0 - 1_000 }),
      sample({ sentAt: T0 + 2_000, endAt: T0 + 2_010, status: 503 }),
      sample({ sentAt: T0 + 6_500, endAt: T0 + 6_600, status: 503 }),
      sample({ sentAt: T0 + 7_000, endAt: T0 + 7_500 }),
    ];
    const f = routeFigures('me', rs, w);
    expect(f).toMatchObject({ sent: 4, ok: 2, r503: 2, r503NoRetryAfter: 2, wrong: 0, recoverySec: 1.5 });
    expect(routeFigures('me', [sample({})], w).recoverySec).toBeUndefined();
    expect(routeFigures('me', rs.slice(0, 3), w).recoverySec).toBe(Infinity);
  });

  it('draws one character per second from the window start', () => {
    const w = window('kafka');
    const rs = [
      sample({ sentAt: T0 - 5_000 }),
      sample({ sentAt: T0 + 1_200, status: 503 }),
      sample({ sentAt: T0 + 1_400 }),
      sample({ sentAt: T0 + 2_100, status: 500 }),
    ];
    expect(strip('me', rs, w)).toBe('.     rX' + ' '.repeat(7));
  });
});
