import { LruMap } from '../lib/bounded-map';
import type { Logger } from '../logger';

export type DropReason = 'malformed' | 'unknown' | 'duplicate' | 'late';

/** Drops remembered per level (LruMap: the least recently seen go first): enough to keep a flood of one id to one line. */
export const MAX_REMEMBERED_DROPS = 2_000;

/**
 * The log of dropped chat replies: one line per reason and request id, without the payload.
 *
 * A reply for another instance (`unknown`) is normal with several replicas, since each reads
 * every reply, so it is a debug line; at any other level it is neither logged nor remembered.
 * Remembering every other replica's request id had kept 20,000 keys, about 3 MB of heap, in
 * each gateway under chat load (docs/performance.md, "Memory"). Debug and warn lines are
 * remembered apart, so other replicas' ids never push out a warning's, and in an LruMap, so an id
 * that keeps sending (at least once every 1,000 other drops) is logged once while it does.
 */
export class DropLog {
  private readonly logged = {
    debug: new LruMap<string, true>(MAX_REMEMBERED_DROPS),
    warn: new LruMap<string, true>(MAX_REMEMBERED_DROPS),
  };

  constructor(private readonly log: Logger) {}

  /** Logs the drop unless this reason and id were logged lately or its level is off. */
  record(reason: DropReason, requestId: string | undefined, where: Record<string, unknown> = {}): void {
    const level = reason === 'unknown' ? 'debug' : 'warn';
    if (!this.log.isLevelEnabled(level)) return;
    const key = `${reason}:${requestId ?? ''}`;
    const logged = this.logged[level];
    if (logged.get(key)) return;
    logged.set(key, true);
    this.log[level]({ request_id: requestId, reason, ...where }, 'chat reply dropped');
  }

  /** How many drops are remembered (for tests). */
  get remembered(): number {
    return this.logged.debug.size + this.logged.warn.size;
  }
}
