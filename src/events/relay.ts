import { Client as PgClient } from 'pg';
import { logLevel, type LogEntry, type Producer } from 'kafkajs';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Config } from '../config';
import { groupByTopic } from '../kafka/batching-producer';
import { createKafka } from '../kafka/client';
import type { Logger } from '../logger';
import { OUTBOX_CHANNEL } from './outbox';

/*
 * Ordering design: one active publisher at a time.
 *
 * Every relay keeps one dedicated PostgreSQL session. The relay whose session holds the
 * session-level advisory lock `pg_try_advisory_lock(hashtextextended(lockName, 0))` is the
 * publisher (and the only one that LISTENs); the others retry the lock every poll interval, so
 * they take over within one interval when the publisher stops or its session dies (PostgreSQL
 * releases the lock).
 * The publisher reads unpublished rows in `id` order, sends them with an idempotent producer
 * (acks=all, one request in flight, so a partition never reorders) and marks them published — all
 * on the lock-holding session, so a relay that lost its session (and with it the lock) can no
 * longer mark anything. `FOR UPDATE SKIP LOCKED` alone would let two relays publish rows of the
 * same key concurrently and reorder them; a single publisher cannot.
 *
 * Delivery is at least once: if a relay dies between Kafka's ack and the update, the next
 * publisher resends those rows with the same `event_id` (consumers deduplicate by it).
 * A row Kafka rejects for good (e.g. too large) holds back only its own key, with backoff; a
 * broker outage holds back everything, with backoff, and nothing is lost.
 * Scaling past one publisher would shard keys (hash(message_key) mod N, one advisory lock per shard).
 */

export interface OutboxRelayOptions {
  databaseUrl: string;
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** How often to look for rows (and, for a standby, to try to become the publisher). Default 250. */
  pollIntervalMs?: number;
  /** Rows per Kafka request. Default 500. */
  batchSize?: number;
  /**
   * After a partial batch, the next round starts no sooner than this after the last one, even when
   * NOTIFY wakes the relay earlier: under load, rows gather into fewer, larger rounds (each round is
   * a SELECT, a Kafka request and an UPDATE). It bounds the extra publish delay under load; an
   * event after a quiet spell goes out at once. Default 100 (fewer wake-ups of the relay,
   * PostgreSQL and Kafka competing with requests for CPU; see README, Performance).
   */
  lingerMs?: number;
  /** Published rows older than this are deleted by the publisher (0 = never). Default 24 h. */
  retentionMs?: number;
  /** How often the publisher deletes expired rows. Default 60 s. */
  pruneIntervalMs?: number;
  /** Backoff after a failure: from `minBackoffMs` doubling up to `maxBackoffMs`, with jitter. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** How long `stop()` keeps publishing what is left before it lets go. Default 5000. */
  drainTimeoutMs?: number;
  /** Where the outbox metrics are registered (more can be added with `registerMetrics`). */
  registry?: Registry;
  /** Name of the advisory lock relays compete for; only relays sharing it exclude each other. */
  lockName?: string;
  /**
   * Makes the producer in place of the relay's own kafkajs producer (idempotent, acks=all, one
   * request in flight). For tests only: a producer that records what it is given, or fails.
   */
  createProducer?: () => RelayProducer;
}

/** What the relay needs of a producer. */
export type RelayProducer = Pick<Producer, 'connect' | 'disconnect' | 'sendBatch'>;

interface OutboxRow {
  id: string;
  event_id: string;
  topic: string;
  message_key: string;
  /** The envelope exactly as written (a `json` column, selected as text: nothing to parse or re-encode). */
  value: string;
  headers: Record<string, string> | null;
  attempts: number;
}

type BatchOutcome = { published: number; full: boolean } | { failed: unknown; published: number };

/** Rejections that name the message, not the broker's state: retrying the same record cannot help. */
const PRODUCER_STATE_ERRORS = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'INVALID_PRODUCER_EPOCH',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_ID_MAPPING',
]);
const MAX_KEY_HOLD_MS = 5 * 60_000;
const PRUNE_BATCH = 5_000;
const METRICS_TIMEOUT_MS = 2_000;

/** Resolves with the promise's value, or with `undefined` after `ms` (the timer never outlives it). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ms);
    });
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.slice(0, 1000);
}

/** A Kafka refusal of the records themselves (too large, invalid), as opposed to an outage. */
export function isRecordRejected(err: unknown): boolean {
  const e = err as { name?: string; retriable?: boolean; type?: string; cause?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (e.name === 'KafkaJSNumberOfRetriesExceeded') return isRecordRejected(e.cause);
  return e.name === 'KafkaJSProtocolError' && e.retriable === false && !PRODUCER_STATE_ERRORS.has(e.type ?? '');
}

/** Publishes the transactional outbox to Kafka; see the design note above. */
export class OutboxRelay {
  private readonly log: Logger;
  private readonly pollIntervalMs: number;
  private readonly batchSize: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly drainTimeoutMs: number;
  private readonly lockName: string;
  private readonly lingerMs: number;
  private readonly retentionMs: number;
  private readonly pruneIntervalMs: number;
  private lastRoundAt = 0;
  private lastPruneAt = 0;

  private client: PgClient | null = null;
  private connecting: Promise<PgClient> | null = null;
  private producer: RelayProducer | null = null;
  private leader = false;
  private loop: Promise<void> | null = null;
  private stopping = false;
  private drainDeadline = 0;
  private wakeUp: (() => void) | null = null;
  private wakePending = false;
  private failures = 0;
  private failingSince = 0;
  private lastFailureLog = 0;
  /** Keys whose head row Kafka rejected, held back until the time given. */
  private readonly heldKeys = new Map<string, number>();
  private sizeCache: { at: number; value: Promise<void> } | null = null;

  private readonly metrics: {
    size: Gauge;
    lag: Gauge;
    leader: Gauge;
    published: Counter;
    failures: Counter;
    pruned: Counter;
  };

  constructor(private readonly options: OutboxRelayOptions) {
    this.log = options.logger.child({ component: 'outbox-relay' });
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.batchSize = options.batchSize ?? 500;
    this.lingerMs = options.lingerMs ?? 100;
    this.retentionMs = options.retentionMs ?? 24 * 3_600_000;
    this.pruneIntervalMs = options.pruneIntervalMs ?? 60_000;
    this.minBackoffMs = options.minBackoffMs ?? 200;
    this.maxBackoffMs = options.maxBackoffMs ?? 10_000;
    this.drainTimeoutMs = options.drainTimeoutMs ?? 5_000;
    this.lockName = options.lockName ?? 'durable-api-gateway:outbox-relay';

    const refresh = () => this.refreshBacklogMetrics();
    this.metrics = {
      size: new Gauge({
        name: 'gateway_outbox_unpublished_events',
        help: 'Events in the outbox not yet published to Kafka',
        registers: [],
        collect: refresh,
      }),
      lag: new Gauge({
        name: 'gateway_outbox_lag_seconds',
        help: 'Age of the oldest unpublished outbox event (0 when the outbox is empty)',
        registers: [],
        collect: refresh,
      }),
      leader: new Gauge({
        name: 'gateway_outbox_relay_active',
        help: '1 when this process is the active outbox publisher, 0 on standby',
        registers: [],
      }),
      published: new Counter({
        name: 'gateway_outbox_published_total',
        help: 'Events this process published to Kafka',
        registers: [],
      }),
      failures: new Counter({
        name: 'gateway_outbox_publish_failures_total',
        help: 'Failed publish attempts (one per event per attempt)',
        registers: [],
      }),
      pruned: new Counter({
        name: 'gateway_outbox_pruned_total',
        help: 'Published events this process deleted from the outbox after OUTBOX_RETENTION',
        registers: [],
      }),
    };
    this.metrics.leader.set(0);
    if (options.registry) this.registerMetrics(options.registry);
  }

  static fromConfig(
    config: Pick<
      Config,
      | 'DATABASE_URL'
      | 'KAFKA_BOOTSTRAP_SERVERS'
      | 'KAFKA_CLIENT_ID'
      | 'OUTBOX_POLL_INTERVAL_MS'
      | 'OUTBOX_BATCH_SIZE'
      | 'OUTBOX_RELAY_LINGER_MS'
      | 'OUTBOX_RETENTION'
    >,
    logger: Logger,
    extra: Partial<OutboxRelayOptions> = {},
  ): OutboxRelay {
    return new OutboxRelay({
      databaseUrl: config.DATABASE_URL,
      brokers: config.KAFKA_BOOTSTRAP_SERVERS,
      clientId: `${config.KAFKA_CLIENT_ID}-outbox`,
      logger,
      pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS,
      batchSize: config.OUTBOX_BATCH_SIZE,
      lingerMs: config.OUTBOX_RELAY_LINGER_MS,
      retentionMs: config.OUTBOX_RETENTION,
      ...extra,
    });
  }

  /** Adds the outbox metrics to a registry (a no-op if it already has them). */
  registerMetrics(registry: Registry): void {
    for (const metric of Object.values(this.metrics)) {
      const name = (metric as unknown as { name: string }).name;
      if (!registry.getSingleMetric(name)) registry.registerMetric(metric);
    }
  }

  /** True while this relay holds the lock and publishes. */
  get isLeader(): boolean {
    return this.leader;
  }

  get isRunning(): boolean {
    return this.loop !== null && !this.stopping;
  }

  /** Starts polling in the background; failures are retried, never thrown. */
  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.run().catch((err: unknown) => {
      this.log.error({ err }, 'outbox relay loop crashed');
    });
  }

  /**
   * Stops: the batch in flight completes, what is left is published for up to `drainTimeoutMs`
   * (when this relay is the publisher and Kafka answers), then the lock and connections are released.
   */
  async stop(): Promise<void> {
    if (!this.loop) {
      await this.release(); // a session opened by prune() alone
      return;
    }
    this.stopping = true;
    this.drainDeadline = Date.now() + this.drainTimeoutMs;
    this.wake();
    await within(this.loop, this.drainTimeoutMs + 2_000);
    await this.release();
    this.loop = null;
  }

  /** Wakes the loop now (new events were committed). */
  wake(): void {
    if (this.wakeUp) this.wakeUp();
    else this.wakePending = true;
  }

  private async run(): Promise<void> {
    // After stop(): keep publishing until a batch leaves nothing behind, a failure, or the deadline.
    let drained = false;
    for (;;) {
      if (this.stopping && (drained || !this.leader || Date.now() >= this.drainDeadline)) return;
      const draining = this.stopping;
      let delay = this.pollIntervalMs;
      try {
        const client = await this.connection();
        if (!this.leader) {
          this.leader = await this.tryLead(client);
          this.metrics.leader.set(this.leader ? 1 : 0);
          if (this.leader) {
            // Only the publisher listens: a standby would wake on every commit just to retry the lock.
            await client.query(`listen ${OUTBOX_CHANNEL}`);
            this.log.info('outbox relay is now the active publisher');
          }
        }
        if (this.leader) {
          await this.lingerAfterPartialRound();
          this.lastRoundAt = Date.now();
          const outcome = await this.publishBatch(client);
          if ('failed' in outcome) {
            delay = this.onFailure('kafka', outcome.failed);
            drained = draining;
          } else {
            this.onSuccess();
            if (outcome.full) {
              delay = 0;
              this.lastRoundAt = 0;
            } else drained = draining;
            if (!draining && Date.now() - this.lastPruneAt >= this.pruneIntervalMs) await this.pruneQuietly(client);
          }
        } else {
          this.onSuccess();
        }
      } catch (err) {
        // The database session is gone or broken: leadership goes with it.
        this.dropConnection();
        delay = this.onFailure('postgres', err);
        drained = draining;
      }
      if (delay > 0 && !this.stopping) await this.sleep(delay);
    }
  }

  /** Waits out the rest of `lingerMs` since the last partial round (not when stopping). */
  private async lingerAfterPartialRound(): Promise<void> {
    const wait = this.lastRoundAt + this.lingerMs - Date.now();
    if (wait <= 0 || this.stopping) return;
    await new Promise((resolve) => setTimeout(resolve, wait));
  }

  /**
   * Deletes published rows older than the retention, oldest first and in bounded batches, so the
   * table does not grow forever. Only rows below the oldest unpublished one are candidates, which
   * keeps the scan on the primary key; a key held back after a rejection keeps later rows until
   * it is published. Stops at the first batch with rows younger than the retention. Returns how
   * many rows it deleted.
   */
  async prune(now = Date.now()): Promise<number> {
    if (this.retentionMs <= 0) return 0;
    const client = await this.connection();
    const cutoff = new Date(now - this.retentionMs);
    let total = 0;
    for (;;) {
      const res = await client.query(
        // The oldest $2 rows by id (an index range, however large the table), then the age check:
        // ids follow commit time closely, so once a batch holds young rows the rest are younger.
        `delete from outbox_events
          where created_at < $1
            and id in (
              select id from outbox_events
               where id < coalesce((select min(id) from outbox_events where published_at is null), 9223372036854775807)
               order by id
               limit $2)`,
        [cutoff, PRUNE_BATCH],
      );
      total += res.rowCount ?? 0;
      if ((res.rowCount ?? 0) < PRUNE_BATCH || this.stopping) break;
    }
    if (total) {
      this.metrics.pruned.inc(total);
      this.log.debug({ pruned: total }, 'outbox: deleted published events past retention');
    }
    return total;
  }

  private async pruneQuietly(client: PgClient): Promise<void> {
    this.lastPruneAt = Date.now();
    if (client !== this.client) return;
    try {
      await this.prune();
    } catch (err) {
      this.log.warn({ err: errorText(err) }, 'outbox: could not delete published events past retention');
    }
  }

  private backoff(failures: number, max = this.maxBackoffMs): number {
    const base = Math.min(max, this.minBackoffMs * 2 ** Math.min(failures - 1, 20));
    return Math.round(base / 2 + Math.random() * (base / 2));
  }

  private onFailure(what: 'kafka' | 'postgres', err: unknown): number {
    this.failures += 1;
    const now = Date.now();
    if (this.failures === 1) {
      this.failingSince = now;
      this.lastFailureLog = now;
      this.log.warn({ err: errorText(err), dependency: what }, 'outbox relay cannot publish; retrying with backoff');
    } else if (now - this.lastFailureLog > 30_000) {
      this.lastFailureLog = now;
      this.log.warn(
        { err: errorText(err), dependency: what, failingForMs: now - this.failingSince, attempts: this.failures },
        'outbox relay still cannot publish',
      );
    }
    return this.backoff(this.failures);
  }

  private onSuccess(): void {
    if (this.failures > 0) {
      this.log.info({ downForMs: Date.now() - this.failingSince }, 'outbox relay recovered');
    }
    this.failures = 0;
  }

  private sleep(ms: number): Promise<void> {
    if (this.wakePending) {
      this.wakePending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  private connection(): Promise<PgClient> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= (async () => {
      const client = new PgClient({
        connectionString: this.options.databaseUrl,
        application_name: 'outbox-relay',
        statement_timeout: 15_000,
        query_timeout: 20_000,
        connectionTimeoutMillis: 5_000,
        keepAlive: true,
      });
      client.on('error', (err) => {
        this.log.warn({ err: errorText(err) }, 'outbox relay lost its database session');
        if (this.client === client) this.dropConnection();
        this.wake();
      });
      client.on('notification', () => this.wake());
      try {
        await client.connect();
      } catch (err) {
        void client.end().catch(() => undefined);
        throw err;
      }
      this.client = client;
      return client;
    })().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private dropConnection(): void {
    const client = this.client;
    this.client = null;
    if (this.leader) this.log.warn('outbox relay is no longer the active publisher');
    this.leader = false;
    this.metrics.leader.set(0);
    if (client) void client.end().catch(() => undefined);
  }

  private async tryLead(client: PgClient): Promise<boolean> {
    const res = await client.query<{ ok: boolean }>('select pg_try_advisory_lock(hashtextextended($1, 0)) as ok', [
      this.lockName,
    ]);
    return res.rows[0]?.ok === true;
  }

  private async publishBatch(client: PgClient): Promise<BatchOutcome> {
    const now = Date.now();
    for (const [key, until] of this.heldKeys) if (until <= now) this.heldKeys.delete(key);
    const { rows } = await client.query<OutboxRow>(
      `select id, event_id, topic, message_key, payload::text as value, headers, attempts
         from outbox_events
        where published_at is null and not (message_key = any($2::text[]))
        order by id
        limit $1`,
      [this.batchSize, [...this.heldKeys.keys()]],
    );
    if (rows.length === 0) return { published: 0, full: false };

    try {
      await this.send(rows);
    } catch (err) {
      if (!isRecordRejected(err)) {
        await this.markFailed(client, rows, err);
        await this.resetProducer();
        return { failed: err, published: 0 };
      }
      return this.publishOneByOne(client, rows);
    }
    await this.markPublished(client, rows);
    return { published: rows.length, full: rows.length === this.batchSize };
  }

  /** Kafka refused something in the batch: find the row, hold back its key, publish the rest in order. */
  private async publishOneByOne(client: PgClient, rows: OutboxRow[]): Promise<BatchOutcome> {
    const held = new Set<string>();
    let published = 0;
    for (const row of rows) {
      if (held.has(row.message_key)) continue;
      try {
        await this.send([row]);
      } catch (err) {
        await this.markFailed(client, [row], err);
        if (!isRecordRejected(err)) {
          await this.resetProducer();
          return { failed: err, published };
        }
        held.add(row.message_key);
        this.heldKeys.set(row.message_key, Date.now() + this.backoff(row.attempts + 1, MAX_KEY_HOLD_MS));
        this.log.error(
          { err: errorText(err), eventId: row.event_id, topic: row.topic, attempts: row.attempts + 1 },
          'Kafka rejected an outbox event; later events with the same key wait for it',
        );
        continue;
      }
      await this.markPublished(client, [row]);
      published += 1;
    }
    return { published, full: false };
  }

  private async send(rows: OutboxRow[]): Promise<void> {
    const producer = await this.producerReady();
    const topicMessages = groupByTopic(
      rows.map((row) => ({
        topic: row.topic,
        message: { key: row.message_key, value: row.value, headers: row.headers ?? {} },
      })),
    );
    await producer.sendBatch({ topicMessages, acks: -1, timeout: 10_000 });
  }

  private async markPublished(client: PgClient, rows: OutboxRow[]): Promise<void> {
    await client.query('update outbox_events set published_at = now() where id = any($1::bigint[])', [
      rows.map((r) => r.id),
    ]);
    this.metrics.published.inc(rows.length);
  }

  private async markFailed(client: PgClient, rows: OutboxRow[], err: unknown): Promise<void> {
    this.metrics.failures.inc(rows.length);
    await client.query(
      'update outbox_events set attempts = attempts + 1, last_error = $2 where id = any($1::bigint[])',
      [rows.map((r) => r.id), errorText(err)],
    );
  }

  private async producerReady(): Promise<RelayProducer> {
    if (this.producer) return this.producer;
    const producer = this.options.createProducer?.() ?? this.kafkaProducer();
    try {
      await producer.connect();
    } catch (err) {
      void producer.disconnect().catch(() => undefined);
      throw err;
    }
    this.producer = producer;
    return producer;
  }

  private kafkaProducer(): RelayProducer {
    const kafkaLog = this.log.child({ component: 'kafkajs' });
    // kafkajs logs every retry of an outage at error level; the relay reports outages itself.
    const kafka = createKafka(this.options.brokers, this.options.clientId, this.log, {
      retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 2_000 },
      logLevel: logLevel.WARN,
      logCreator:
        () =>
        ({ log }: LogEntry) => {
          const { message, ...rest } = log;
          kafkaLog.debug(rest, message);
        },
    });
    // Bounded retries: the relay retries itself, with backoff, and rebuilds the producer after a
    // failure, so a batch is never stuck inside kafkajs while Kafka is down.
    return kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: true,
      retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2_000 },
    });
  }

  private async resetProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = null;
    if (producer)
      await within(
        producer.disconnect().catch(() => undefined),
        2_000,
      );
  }

  /** Size and lag, read at most once per second however many gauges and scrapes ask. */
  private refreshBacklogMetrics(): Promise<void> {
    const now = Date.now();
    if (this.sizeCache && now - this.sizeCache.at < 1_000) return this.sizeCache.value;
    const value = (async () => {
      const client = this.client;
      if (!client) return;
      try {
        const res = await within(
          client.query<{ size: number; lag: number | null }>(
            `select (select count(*) from outbox_events where published_at is null)::int as size,
                    (select extract(epoch from now() - created_at) from outbox_events
                      where published_at is null order by id limit 1)::float8 as lag`,
          ),
          METRICS_TIMEOUT_MS,
        );
        if (!res) return;
        const row = res.rows[0];
        this.metrics.size.set(row?.size ?? 0);
        this.metrics.lag.set(Math.max(0, row?.lag ?? 0));
      } catch (err) {
        this.log.debug({ err: errorText(err) }, 'outbox metrics not refreshed');
      }
    })();
    this.sizeCache = { at: now, value };
    return value;
  }

  private async release(): Promise<void> {
    await this.resetProducer();
    const client = this.client;
    const wasLeader = this.leader;
    this.client = null;
    this.leader = false;
    this.metrics.leader.set(0);
    if (client) {
      // Closing the session releases the advisory lock; unlocking first hands over without waiting.
      if (wasLeader) await client.query('select pg_advisory_unlock_all()').catch(() => undefined);
      await within(
        client.end().catch(() => undefined),
        2_000,
      );
    }
  }
}
