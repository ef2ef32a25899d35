import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../logger';
import type { EventTopics, EventType } from './catalog';
import { OUTBOX_CHANNEL, buildEvent, type RecordEventInput } from './outbox';

interface Pending {
  row: [string, string, string, string, string, string];
  done: (written: boolean) => void;
}

const FLUSH_INTERVAL_MS = 5;
const MAX_BATCH = 500;
const MAX_BUFFERED = 20_000;
const RETRY_DELAY_MS = 1_000;

/**
 * Outbox writes for direct (proxied) routes, which have no transaction of their own to join.
 * Events are group-committed: rows queued within a few milliseconds go to PostgreSQL in one
 * multi-row insert. A route awaits `write()` when the answer must imply a durable event (state
 * changes), or fires and forgets for read-only events so the proxy path never waits on the
 * database. If PostgreSQL is down the rows stay queued (bounded) and are retried; the request
 * itself still succeeds. `close()` flushes what is left.
 */
export class OutboxWriter {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly orm: MikroORM,
    private readonly config: EventTopics,
    private readonly logger: Logger,
  ) {}

  /** Queues one event; resolves true once it is committed, false if it could not be yet (it stays queued). */
  write<T extends EventType>(input: RecordEventInput<T>): Promise<boolean> {
    const { envelope, headers, topic, key } = buildEvent(this.config, input);
    return new Promise((done) => {
      if (this.queue.length >= MAX_BUFFERED) {
        const dropped = this.queue.shift();
        this.logger.error(
          { event_id: dropped?.row[0] },
          'outbox write buffer full: dropping the oldest unwritten event',
        );
        dropped?.done(false);
      }
      this.queue.push({
        row: [envelope.event_id, topic, key, envelope.event_type, JSON.stringify(envelope), JSON.stringify(headers)],
        done,
      });
      this.schedule(FLUSH_INTERVAL_MS);
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
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushing = this.flush().finally(() => {
        this.flushing = undefined;
      });
    }, delay);
  }

  private async flush(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue.slice(0, MAX_BATCH);
      const values = batch.map(() => '(?, ?, ?, ?, ?::jsonb, ?::jsonb)').join(', ');
      try {
        await this.orm.em.getConnection().execute(
          `with ins as (
             insert into outbox_events (event_id, topic, message_key, event_type, payload, headers)
             values ${values} on conflict (event_id) do nothing returning 1)
           select pg_notify('${OUTBOX_CHANNEL}', '') from (select 1) x where exists (select 1 from ins)`,
          batch.flatMap((p) => p.row),
        );
      } catch (err) {
        this.logger.error(
          { error: err instanceof Error ? err.message : String(err), pending: this.queue.length },
          'outbox write failed; will retry',
        );
        for (const p of batch) p.done(false);
        if (!this.closed) this.schedule(RETRY_DELAY_MS);
        return;
      }
      this.queue.splice(0, batch.length);
      for (const p of batch) p.done(true);
    }
  }
}
