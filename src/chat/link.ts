/**
 * Whether this process can talk to the chat service over Kafka right now, from what the Kafka
 * clients observe: the reply consumer has joined and positioned itself, it fetched recently (an
 * idle consumer fetches every `maxWaitTimeInMs`, so silence means the broker is gone), and no send
 * failed for want of a broker since its last fetch. Calls check it before sending, so an outage
 * answers 503 at once instead of at the reply deadline.
 */
export class ChatLink {
  private joined = false;
  private lastFetchAt = 0;
  private sendFailedAt = 0;
  private lostReason = 'not connected yet';
  private readonly waiters = new Set<() => void>();

  constructor(
    /** A consumer that has not fetched for this long has lost the broker. */
    private readonly staleAfterMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get available(): boolean {
    return this.joined && this.now() - this.lastFetchAt <= this.staleAfterMs && this.lastFetchAt > this.sendFailedAt;
  }

  /** Why the link is down (for logs and /health/ready); undefined while it is up. */
  get problem(): string | undefined {
    if (this.available) return undefined;
    if (!this.joined) return this.lostReason;
    if (this.lastFetchAt <= this.sendFailedAt) return 'a chat request could not reach Kafka';
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
    // Strictly later than a send failure in the same millisecond.
    this.lastFetchAt = Math.max(this.now(), this.sendFailedAt + 1);
    if (this.available) this.wake();
  }

  /** A send failed because no broker answered; the link is down until the consumer fetches again. */
  sendFailed(): void {
    this.sendFailedAt = this.now();
  }

  /** Resolves true as soon as the link is available, false after `timeoutMs`. */
  async waitUntilAvailable(timeoutMs: number): Promise<boolean> {
    if (this.available) return true;
    if (timeoutMs <= 0) return false;
    let wake: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await new Promise<boolean>((resolve) => {
        wake = () => resolve(true);
        this.waiters.add(wake);
        timer = setTimeout(() => resolve(this.available), timeoutMs);
      });
    } finally {
      clearTimeout(timer);
      if (wake) this.waiters.delete(wake);
    }
  }

  /** Releases every waiter (shutdown: they then see the link as it is). */
  wake(): void {
    for (const w of [...this.waiters]) w();
  }
}
