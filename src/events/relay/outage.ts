import type { Logger } from '../../logger';
import { errorText } from './util';

/**
 * The relay's failure streak: backoff with jitter, one warning when it starts, one every 30 s
 * while it lasts, one line when it ends (a broker outage must not log every retry).
 */
export class OutageLog {
  private failures = 0;
  private since = 0;
  private lastLog = 0;

  constructor(
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly minBackoffMs: number,
    private readonly maxBackoffMs: number,
  ) {}

  backoff(failures: number, max = this.maxBackoffMs): number {
    const base = Math.min(max, this.minBackoffMs * 2 ** Math.min(failures - 1, 20));
    return Math.round(base / 2 + Math.random() * (base / 2));
  }

  /** Records a failure; returns how long to wait before the next try. */
  failed(what: 'kafka' | 'postgres', err: unknown): number {
    this.failures += 1;
    const now = this.now();
    if (this.failures === 1) {
      this.since = now;
      this.lastLog = now;
      this.log.warn({ err: errorText(err), dependency: what }, 'outbox relay cannot publish; retrying with backoff');
    } else if (Math.abs(now - this.lastLog) > 30_000) {
      this.lastLog = now;
      this.log.warn(
        { err: errorText(err), dependency: what, failingForMs: Math.round(now - this.since), attempts: this.failures },
        'outbox relay still cannot publish',
      );
    }
    return this.backoff(this.failures);
  }

  succeeded(): void {
    if (this.failures > 0) this.log.info({ downForMs: Math.round(this.now() - this.since) }, 'outbox relay recovered');
    this.failures = 0;
  }
}
