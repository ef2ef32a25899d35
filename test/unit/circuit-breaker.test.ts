import { CircuitBreaker } from '../../src/upstreams/circuit-breaker';

describe('CircuitBreaker', () => {
  it('keeps the cooldown of an open circuit when calls sent before it opened fail later', () => {
    let now = 0;
    const breaker = new CircuitBreaker('auth-service', 2, 10_000, () => now);
    breaker.failure();
    breaker.failure();
    expect(breaker.current).toBe('open');
    // Calls that were waiting when it opened time out 8 s later.
    now = 8_000;
    breaker.failure();
    breaker.failure();
    now = 10_000;
    expect(breaker.allow()).toBe(true);
    expect(breaker.current).toBe('half-open');
  });

  it('trip() opens at once and refuses until the cooldown ends', () => {
    let now = 0;
    const breaker = new CircuitBreaker('auth-service', 5, 1_000, () => now);
    breaker.trip();
    expect(breaker.refusing).toBe(true);
    expect(breaker.allow()).toBe(false);
    now = 1_000;
    expect(breaker.refusing).toBe(false);
    expect(breaker.allow()).toBe(true);
  });
});
