import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../logger';
import type { EventTopics, EventType } from './catalog';
import { OUTBOX_CHANNEL, buildEvent, type RecordEventInput } from './outbox';

interface Pending {
  /** The row as a JSON object text, ready to join into the batch's JSON array. */
  row: string;
  done: (written: boolean) => void;
}

/** How long an awaited (state-change) event waits for others to share its insert. */
const FLUSH_INTERVAL_MS = 5;
const MAX_BATCH = 500;
const RETRY_DELAY_MS = 1_000;

/** The write buffer is full because PostgreSQL has not accepted rows for a while. */
export class OutboxFullError extends Error {
  constructor(readonly pending: number) {
    super(`outbox write buffer full (${pending} events waiting for PostgreSQL)`);
    this.name = 'OutboxFullError';
  }
}

/**
 * Outbox writes for direct (proxied) routes, which have no transaction of their own to join.
 * Events are group-committed: rows queued within a few milliseconds go to PostgreSQL in one
 * multi-row insert. A route awaits `write()` when the answer must imply a durable event (state
 * changes), or fires and forgets for read-only events so the proxy path never waits on the
 * database. Read events may wait longer (`readLingerMs`) for company, so under load the writer
 * sends fewer, larger inserts; an awaited event flushes whatever is queued. If PostgreSQL is down
 * the rows stay queued and are retried; the request itself still succeeds. The queue is bounded:
 * once full, `write()` refuses (the route answers 503) instead of dropping an event. `close()`
 * flushes what is left.
 */
export class OutboxWriter {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerDue = 0;
  /** After a failed insert, no flush before this (not even for an awaited event). */
  private retryAt = 0;
  private flushing: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly orm: MikroORM,
    private readonly config: EventTopics,
    private readonly logger: Logger,
    /** Events held while PostgreSQL is away; beyond it `write()` refuses. */
    private readonly maxBuffered = 20_000,
    /** Longest wait of a read (unawaited) event before its insert; never less than an awaited one's 5 ms. */
    private readonly readLingerMs = FLUSH_INTERVAL_MS,
  ) {}

  /** True when the buffer is full (PostgreSQL has been away for a while): `write()` would refuse. */
  get full(): boolean {
    return this.queue.length >= this.maxBuffered;
  }

  /**
   * Queues one event; resolves true once it is committed, false if it could not be yet (it stays
   * queued and is retried). Throws `OutboxFullError` instead of queueing when the buffer is full:
   * the caller fails its request rather than lose the event. `read` events (nobody awaits them)
   * may wait up to `readLingerMs` for their insert.
   */
  write<T extends EventType>(input: RecordEventInput<T>, opts: { read?: boolean } = {}): Promise<boolean> {
    if (this.full) throw new OutboxFullError(this.queue.length);
    const { envelope, headers, topic, key } = buildEvent(this.config, input);
    return new Promise((done) => {
      this.queue.push({
        row: JSON.stringify({
          event_id: envelope.event_id,
          topic,
          message_key: key,
          event_type: envelope.event_type,
          payload: envelope,
          headers,
        }),
        done,
      });
      this.schedule(opts.read ? Math.max(this.readLingerMs, FLUSH_INTERVAL_MS) : FLUSH_INTERVAL_MS);
    });
  }

  get pending(): number {
    return this.queue.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.flushing;
    if (this.queue.length) await this.flush();
  }

  private schedule(delay: number) {
    if (this.closed) return;
    const now = Date.now();
    const due = Math.max(now + delay, this.retryAt);
    if (this.timer) {
      if (due >= this.timerDue) return;
      clearTimeout(this.timer); // an awaited event: flush sooner than the read events' linger
    }
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // One flush at a time: a running flush keeps going until the queue is empty. Two at once
      // would both take the head of the queue and each remove its own count of rows from it.
      if (this.flushing) return;
      this.flushing = this.flush().finally(() => {
        this.flushing = undefined;
      });
    }, due - now);
  }

  private async flush(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue.slice(0, MAX_BATCH);
      try {
        // One bound parameter (a JSON array of rows) rather than values inlined into the SQL text:
        // MikroORM's `execute` formats parameters into the statement client-side, which cost more
        // CPU per event than the insert itself (measured: `quoteValue` and socket writes in the profile).
        await this.orm.em.getKnex().raw(
          `with ins as (
             insert into outbox_events (event_id, topic, message_key, event_type, payload, headers)
             select r.event_id, r.topic, r.message_key, r.event_type, r.payload, r.headers
               from json_to_recordset(?::json)
                 as r(event_id uuid, topic text, message_key text, event_type text, payload json, headers json)
             on conflict (event_id) do nothing returning 1)
           select pg_notify('${OUTBOX_CHANNEL}', '') from (select 1) x where exists (select 1 from ins)`,
          [`[${batch.map((p) => p.row).join(',')}]`],
        );
      } catch (err) {
        this.logger.error(
          { error: err instanceof Error ? err.message : String(err), pending: this.queue.length },
          'outbox write failed; will retry',
        );
        for (const p of batch) p.done(false);
        this.retryAt = Date.now() + RETRY_DELAY_MS;
        clearTimeout(this.timer); // a pending earlier flush would not wait for the retry delay
        this.timer = undefined;
        if (!this.closed) this.schedule(RETRY_DELAY_MS);
        return;
      }
      this.retryAt = 0;
      this.queue.splice(0, batch.length);
      for (const p of batch) p.done(true);
    }
  }
}
