import type { Logger } from '../logger';

export type DropReason = 'malformed' | 'unknown' | 'duplicate' | 'late';

/** Drops already logged, by reason and request id: enough to keep a flood of one id to one line. */
export const MAX_REMEMBERED_DROPS = 2_000;

/**
 * The log of dropped chat replies: one line per reason and request id, without the payload.
 *
 * A reply for another instance (`unknown`) is normal with several replicas, since each reads
 * every reply, so it is a debug line; at any other level it is neither logged nor remembered.
 * Remembering every other replica's request id had kept 20,000 keys, about 3 MB of heap, in
 * each gateway under chat load (docs/performance.md, "Memory").
 */
export class DropLog {
  private readonly logged = new Set<string>();

  constructor(private readonly log: Logger) {}

  /** Logs the drop unless this reason and id were logged already or its level is off. */
  record(reason: DropReason, requestId: string | undefined, where: Record<string, unknown> = {}): void {
    const level = reason === 'unknown' ? 'debug' : 'warn';
    if (!this.log.isLevelEnabled(level)) return;
    const key = `${reason}:${requestId ?? ''}`;
    if (this.logged.has(key)) return;
    this.logged.add(key);
    if (this.logged.size > MAX_REMEMBERED_DROPS) this.logged.delete(this.logged.values().next().value!);
    this.log[level]({ request_id: requestId, reason, ...where }, 'chat reply dropped');
  }

  /** How many drops are remembered (for tests). */
  get remembered(): number {
    return this.logged.size;
  }
}
