/**
 * Whether this process can talk to the chat service over Kafka right now, from what the Kafka
 * clients observe: the reply consumer has joined and positioned itself, it fetched recently (an
 * idle consumer fetches every `maxWaitTimeInMs`, so silence means the broker is gone), and Kafka
 * has not been seen unreachable (a failed send, a refused or reset connection) since its last
 * fetch. Calls check it before sending, so an outage answers 503 at once instead of at the reply
 * deadline.
 */
export class ChatLink {
  private joined = false;
  private lastFetchAt = 0;
  private unreachableAt = 0;
  private unreachableReason = '';
  private lostReason = 'not connected yet';
  private readonly waiters = new Set<(release: boolean) => void>();

  constructor(
    /** A consumer that has not fetched for this long has lost the broker. */
    private readonly staleAfterMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get available(): boolean {
    return this.joined && this.now() - this.lastFetchAt <= this.staleAfterMs && !this.knownDown;
  }

  /**
   * Kafka was seen unreachable since the consumer's last fetch: calls fail at once rather than
   * wait for a rejoin, until the consumer fetches again (which is also how recovery shows).
   */
  get knownDown(): boolean {
    return this.unreachableAt > 0 && this.lastFetchAt <= this.unreachableAt;
  }

  /** Why the link is down (for logs and /health/ready); undefined while it is up. */
  get problem(): string | undefined {
    if (this.available) return undefined;
    if (this.knownDown) return this.unreachableReason;
    if (!this.joined) return this.lostReason;
    return `the reply consumer has not fetched for ${this.now() - this.lastFetchAt} ms`;
  }

  /** The reply consumer has its partitions and reads from the right offsets. */
  joinedGroup(): void {
    this.joined = true;
    this.fetched();
  }

  /** The reply consumer lost its group, crashed or was closed. */
  lost(reason: string): void {
    this.joined = false;
    this.lostReason = reason;
  }

  fetched(): void {
    // Strictly later than a failure in the same millisecond.
    this.lastFetchAt = Math.max(this.now(), this.unreachableAt + 1);
    if (this.available) this.wake();
  }

  /** A send failed because no broker answered; the link is down until the consumer fetches again. */
  sendFailed(): void {
    this.unreachable('a chat request could not reach Kafka');
  }

  /** A connection to Kafka was refused or reset: the broker is gone (or going). */
  connectionFailed(): void {
    this.unreachable('Kafka refused or dropped a connection');
  }

  /**
   * Resolves true as soon as the link is available, false after `timeoutMs`; with `failFast`,
   * false at once while (or as soon as) Kafka is known down.
   */
  async waitUntilAvailable(timeoutMs: number, failFast = false): Promise<boolean> {
    if (this.available) return true;
    if (timeoutMs <= 0 || (failFast && this.knownDown)) return false;
    let wake: ((release: boolean) => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await new Promise<boolean>((resolve) => {
        wake = (release) => {
          if (this.available) resolve(true);
          else if (release || (failFast && this.knownDown)) resolve(false);
        };
        this.waiters.add(wake);
        timer = setTimeout(() => resolve(this.available), timeoutMs);
      });
    } finally {
      clearTimeout(timer);
      if (wake) this.waiters.delete(wake);
    }
  }

  /**
   * Tells every waiter to look again: it resolves if the link is up, or down for a fail-fast wait;
   * `release` resolves them all (shutdown).
   */
  wake(release = false): void {
    for (const w of [...this.waiters]) w(release);
  }

  private unreachable(reason: string): void {
    this.unreachableAt = this.now();
    this.unreachableReason = reason;
    this.wake();
  }
}
