import type { Logger } from '../logger';

export type DropReason = 'malformed' | 'unknown' | 'duplicate' | 'late';

/** Drops remembered per level (the least recently seen go first): enough to keep a flood of one id to one line. */
export const MAX_REMEMBERED_DROPS = 2_000;

/**
 * The log of dropped chat replies: one line per reason and request id, without the payload.
 *
 * A reply for another instance (`unknown`) is normal with several replicas, since each reads
 * every reply, so it is a debug line; at any other level it is neither logged nor remembered.
 * Remembering every other replica's request id had kept 20,000 keys, about 3 MB of heap, in
 * each gateway under chat load (docs/performance.md, "Memory"). Debug and warn lines are
 * remembered apart, so other replicas' ids never push out a warning's, and a repeat counts as
 * recent, so an id that keeps sending is logged once while it does.
 */
export class DropLog {
  private readonly logged = { debug: new Set<string>(), warn: new Set<string>() };

  constructor(private readonly log: Logger) {}

  /** Logs the drop unless this reason and id were logged lately or its level is off. */
  record(reason: DropReason, requestId: string | undefined, where: Record<string, unknown> = {}): void {
    const level = reason === 'unknown' ? 'debug' : 'warn';
    if (!this.log.isLevelEnabled(level)) return;
    const key = `${reason}:${requestId ?? ''}`;
    const logged = this.logged[level];
    const seen = logged.delete(key);
    logged.add(key);
    if (seen) return;
    if (logged.size > MAX_REMEMBERED_DROPS) logged.delete(logged.values().next().value!);
    this.log[level]({ request_id: requestId, reason, ...where }, 'chat reply dropped');
  }

  /** How many drops are remembered (for tests). */
  get remembered(): number {
    return this.logged.debug.size + this.logged.warn.size;
  }
}
