/**
 * A per-upstream circuit breaker: after `threshold` consecutive failures it opens for `cooldownMs`
 * and fails calls at once (no socket, no timeout to wait out); then one trial call is let through
 * (half-open) and its outcome closes or re-opens the circuit.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private state: 'closed' | 'open' | 'half-open' = 'closed';
  private trialInFlight = false;

  constructor(
    readonly name: string,
    private readonly threshold: number,
    private readonly cooldownMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether a call may go out now; reserves the half-open trial slot when it says yes. */
  allow(): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open' && this.now() - this.openedAt >= this.cooldownMs) this.state = 'half-open';
    if (this.state === 'half-open' && !this.trialInFlight) {
      this.trialInFlight = true;
      return true;
    }
    return false;
  }

  /** Seconds until a trial call is allowed (for Retry-After). */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((this.cooldownMs - (this.now() - this.openedAt)) / 1000));
  }

  success(): void {
    this.failures = 0;
    this.trialInFlight = false;
    this.state = 'closed';
  }

  failure(): void {
    // A call sent before the circuit opened and failing now says nothing new: the cooldown keeps
    // its start (restarting it kept a recovered upstream refused for another cooldown).
    if (this.state === 'open') return;
    this.trialInFlight = false;
    this.failures += 1;
    if (this.state === 'half-open' || this.failures >= this.threshold) {
      this.state = 'open';
      this.openedAt = this.now();
    }
  }

  /** Opens the circuit now (the upstream was seen stalled). */
  trip(): void {
    this.trialInFlight = false;
    this.state = 'open';
    this.openedAt = this.now();
  }

  /** Open, with the cooldown still running: every call is refused (no trial slot taken). */
  get refusing(): boolean {
    return this.state === 'open' && this.now() - this.openedAt < this.cooldownMs;
  }

  get current(): 'closed' | 'open' | 'half-open' {
    return this.state;
  }
}
