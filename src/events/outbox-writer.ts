import { performance } from 'node:perf_hooks';
import type { Sql } from '../db/database';
import { Counter, Gauge, type Registry } from 'prom-client';
import { insertOutboxRows } from '../db/outbox-store';
import type { Logger } from '../logger';
import type { EventTopics, EventType } from './catalog';
import { buildEvent, type RecordEventInput } from './outbox';
import { errorMessage } from '../lib/error-message';

interface Pending {
  /** The row as a JSON object text, ready to join into the batch's JSON array. */
  row: string;
  /** When it was queued (monotonic ms), for the buffer's oldest-age gauge. */
  at: number;
  /** Called with true once committed, false while it waits for PostgreSQL; only the first call counts. */
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

/** A place in the buffer taken before an upstream call, so the event after it can never be refused. */
export interface OutboxReservation {
  write<T extends EventType>(input: RecordEventInput<T>): Promise<boolean>;
  /** Gives the place back unused (no event after all); a no-op once written or released. */
  release(): void;
}

export interface OutboxWriterOptions {
  /** How long `close()` keeps retrying what is left while PostgreSQL is away. Default 5000. */
  drainTimeoutMs?: number;
  /** Monotonic milliseconds (tests step it); default `performance.now`. */
  now?: () => number;
}

/**
 * Outbox writes for direct (proxied) routes, which have no transaction of their own to join.
 * Events are group-committed: rows queued within a few milliseconds go to PostgreSQL in one
 * multi-row insert. `write()` resolves true once the row is committed, or false as soon as it is
 * known to wait for PostgreSQL (an insert failed): the row stays queued and is retried, and the
 * route answers anyway (docs/adr/0010). The queue is bounded: a route takes its place with
 * `reserve()` before its upstream call, so a full buffer refuses the request before anything
 * changed upstream. `close()` keeps retrying until the queue is empty or its drain time is up.
 */
export class OutboxWriter {
  private queue: Pending[] = [];
  private reserved = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = 0;
  /** After a failed insert, no flush before this (not even for an awaited event). */
  private retryAt = 0;
  private failing = false;
  private flushing: Promise<void> | undefined;
  private closed = false;
  private readonly now: () => number;
  private readonly metrics: { buffered: Gauge; oldest: Gauge; failures: Counter; dropped: Counter } = {
    buffered: new Gauge({
      name: 'gateway_outbox_write_buffer_events',
      help: 'State events held in this process waiting for their outbox insert (PostgreSQL slow or away)',
      registers: [],
      collect: (): void => this.metrics.buffered.set(this.queue.length),
    }),
    oldest: new Gauge({
      name: 'gateway_outbox_write_buffer_oldest_seconds',
      help: 'Age of the oldest state event waiting for its outbox insert (0 when none)',
      registers: [],
      collect: (): void => this.metrics.oldest.set(this.queue[0] ? (this.now() - this.queue[0].at) / 1000 : 0),
    }),
    failures: new Counter({
      name: 'gateway_outbox_write_failures_total',
      help: 'Failed outbox inserts (each is retried)',
      registers: [],
    }),
    dropped: new Counter({
      name: 'gateway_outbox_write_dropped_total',
      help: 'State events still unwritten when shutdown gave up (PostgreSQL away past the drain time)',
      registers: [],
    }),
  };

  constructor(
    private readonly db: Sql,
    private readonly config: EventTopics,
    private readonly logger: Logger,
    /** Events held while PostgreSQL is away; beyond it `write()` and `reserve()` refuse. */
    private readonly maxBuffered = 20_000,
    /** Longest wait of a read (unawaited) event before its insert; never less than an awaited one's 5 ms. */
    private readonly readLingerMs = FLUSH_INTERVAL_MS,
    private readonly options: OutboxWriterOptions = {},
  ) {
    this.now = options.now ?? (() => performance.now());
  }

  /** True when the buffer is full (PostgreSQL has been away for a while): `write()` would refuse. */
  get full(): boolean {
    return this.queue.length + this.reserved >= this.maxBuffered;
  }

  get pending(): number {
    return this.queue.length;
  }

  registerMetrics(registry: Registry): void {
    for (const metric of Object.values(this.metrics)) {
      const name = (metric as unknown as { name: string }).name;
      if (!registry.getSingleMetric(name)) registry.registerMetric(metric);
    }
  }

  /** Takes a place for one event, or throws `OutboxFullError` (refuse the request before acting). */
  reserve(): OutboxReservation {
    if (this.full) throw new OutboxFullError(this.queue.length + this.reserved);
    this.reserved += 1;
    let open = true;
    const release = () => {
      if (open) this.reserved -= 1;
      open = false;
    };
    return {
      write: (input) => {
        release();
        return this.enqueue(input, false);
      },
      release,
    };
  }

  /**
   * Queues one event (see the class note for what the result means). Throws `OutboxFullError`
   * instead of queueing when the buffer is full. `read` events (nobody awaits them) may wait up
   * to `readLingerMs` for their insert.
   */
  write<T extends EventType>(input: RecordEventInput<T>, opts: { read?: boolean } = {}): Promise<boolean> {
    if (this.full) throw new OutboxFullError(this.queue.length + this.reserved);
    return this.enqueue(input, opts.read ?? false);
  }

  /** Flushes what is queued, retrying while PostgreSQL is away, for up to `drainTimeoutMs`. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const deadline = this.now() + (this.options.drainTimeoutMs ?? 5_000);
    for (;;) {
      await this.flushing;
      if (!this.queue.length) return;
      const left = deadline - this.now();
      if (left <= 0) break;
      if (this.failing) await new Promise((resolve) => setTimeout(resolve, Math.min(left, RETRY_DELAY_MS)));
      this.flushing = this.flush().finally(() => {
        this.flushing = undefined;
      });
    }
    this.metrics.dropped.inc(this.queue.length);
    this.logger.error(
      { unwritten: this.queue.length },
      'shutting down with state events PostgreSQL never accepted; they are lost',
    );
    for (const p of this.queue) p.done(false);
  }

  private enqueue<T extends EventType>(input: RecordEventInput<T>, read: boolean): Promise<boolean> {
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
        at: this.now(),
        done,
      });
      // PostgreSQL is known to be away: say so now rather than keep the request waiting for a retry.
      if (this.failing) done(false);
      this.schedule(read ? Math.max(this.readLingerMs, FLUSH_INTERVAL_MS) : FLUSH_INTERVAL_MS);
    });
  }

  private schedule(delay: number) {
    if (this.closed) return;
    const now = this.now();
    // Clamped: a due time far ahead (a clock that stepped) never stalls the writer past a retry delay.
    const due = Math.min(Math.max(now + delay, this.retryAt), now + RETRY_DELAY_MS);
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
        await insertOutboxRows(this.db, `[${batch.map((p) => p.row).join(',')}]`);
      } catch (err) {
        this.onFailure(err);
        return;
      }
      if (this.failing) this.logger.info({ pending: this.queue.length }, 'outbox writes recovered');
      this.failing = false;
      this.retryAt = 0;
      this.queue.splice(0, batch.length);
      for (const p of batch) p.done(true);
    }
  }

  private onFailure(err: unknown): void {
    this.metrics.failures.inc();
    if (!this.failing) {
      this.logger.error(
        { error: errorMessage(err), pending: this.queue.length },
        'outbox write failed; state events wait in memory and are retried',
      );
    }
    this.failing = true;
    // Every waiting request learns now, not only this batch's: none waits for PostgreSQL to return.
    for (const p of this.queue) p.done(false);
    this.retryAt = this.now() + RETRY_DELAY_MS;
    clearTimeout(this.timer); // a pending earlier flush would not wait for the retry delay
    this.timer = undefined;
    this.schedule(RETRY_DELAY_MS);
  }
}
