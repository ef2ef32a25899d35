import type { Registry } from 'prom-client';
import type { Config } from '../../config';
import type { Logger } from '../../logger';
import { LeaderSession } from './leader';
import { OutageLog } from './outage';
import { createRelayMetrics, registerRelayMetrics, type RelayMetrics } from './metrics';
import { pruneOutbox } from './prune';
import type { OutboxRelayOptions } from './options';
import { eventProducer } from './producer';
import { RelayRound } from './round';
import { within } from '../../lib/wait';
import { errorText, monotonicNow } from './util';

/*
 * Ordering design: one active publisher at a time (leader.ts). The publisher reads unpublished
 * rows in `id` order, sends them with an idempotent producer (acks=all, one request in flight, so
 * a partition never reorders) and marks them published, all on the lock-holding session, so a
 * relay that lost its session (and with it the lock) can no longer mark anything, and it re-proves
 * the lock before each send. `FOR UPDATE SKIP LOCKED` alone would let two relays publish rows of
 * the same key concurrently and reorder them; a single publisher cannot.
 *
 * Delivery is at least once: if a relay dies between Kafka's ack and the update, the next
 * publisher resends those rows with the same `event_id` (consumers deduplicate by it). A broker
 * outage holds back everything, with backoff, and nothing is lost; a row Kafka refuses is handled
 * in round.ts. Scaling past one publisher would shard keys (one advisory lock per shard).
 */

export type { OutboxRelayOptions } from './options';
export type { RelayProducer } from './round';
export { isRecordRejected } from './round';

const LEASE_MARGIN_MS = 2_000;

/** Publishes the transactional outbox to Kafka; see the design note above. */
export class OutboxRelay {
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly session: LeaderSession;
  private readonly round: RelayRound;
  private readonly metrics: RelayMetrics;
  private readonly outage: OutageLog;
  private lastRoundAt = -Infinity;
  private lastPruneAt = -Infinity;
  private loop: Promise<void> | null = null;
  private stopping = false;
  private drainDeadline = 0;
  private wakeUp: (() => void) | null = null;
  private wakePending = false;

  constructor(private readonly options: OutboxRelayOptions) {
    this.log = options.logger.child({ component: 'outbox-relay' });
    this.now = options.now ?? monotonicNow;
    this.outage = new OutageLog(this.log, this.now, options.minBackoffMs ?? 200, options.maxBackoffMs ?? 10_000);
    const lockName = options.lockName ?? 'durable-api-gateway:outbox-relay';
    const sendTimeoutMs = options.sendTimeoutMs ?? 10_000;
    this.session = new LeaderSession({
      databaseUrl: options.databaseUrl,
      lockName,
      leaseMs: sendTimeoutMs + LEASE_MARGIN_MS,
      logger: this.log,
      onWake: () => this.wake(),
    });
    this.metrics = createRelayMetrics(() => this.session.current, this.log);
    this.round = new RelayRound({
      batchSize: options.batchSize ?? 500,
      sendTimeoutMs,
      maxRejections: options.maxRejections ?? 5,
      lockName,
      logger: this.log,
      metrics: this.metrics,
      now: this.now,
      backoff: (failures, max) => this.outage.backoff(failures, max),
      producer: () => options.createProducer?.() ?? eventProducer(options.brokers, options.clientId, this.log),
      beforeSend: (client) => this.session.leaseBeforeSend(client),
      afterSelect: options.afterSelect,
    });
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
    registerRelayMetrics(this.metrics, registry);
  }

  /** True while this relay holds the lock and publishes. */
  get isLeader(): boolean {
    return this.session.isLeader;
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
    const drainTimeoutMs = this.options.drainTimeoutMs ?? 5_000;
    if (this.loop) {
      this.stopping = true;
      this.drainDeadline = this.now() + drainTimeoutMs;
      this.wake();
      await within(this.loop, drainTimeoutMs + 2_000);
    }
    await this.round.resetProducer();
    await this.session.release(); // also a session opened by prune() alone
    this.metrics.leader.set(0);
    this.loop = null;
  }

  /** Wakes the loop now (new events were committed). */
  wake(): void {
    if (this.wakeUp) this.wakeUp();
    else this.wakePending = true;
  }

  /**
   * Deletes published rows older than the retention (see prune.ts); returns how many.
   * `now` is wall-clock time: the cutoff is compared with `created_at`.
   */
  async prune(now = Date.now()): Promise<number> {
    const retentionMs = this.options.retentionMs ?? 24 * 3_600_000;
    if (retentionMs <= 0) return 0;
    const client = await this.session.connection();
    const total = await pruneOutbox(client, new Date(now - retentionMs), () => this.stopping);
    if (total) {
      this.metrics.pruned.inc(total);
      this.log.debug({ pruned: total }, 'outbox: deleted published events past retention');
    }
    return total;
  }

  private async run(): Promise<void> {
    // After stop(): keep publishing until a batch leaves nothing behind, a failure, or the deadline.
    let drained = false;
    for (;;) {
      if (this.stopping && (drained || !this.isLeader || this.now() >= this.drainDeadline)) return;
      const draining = this.stopping;
      let delay = this.options.pollIntervalMs ?? 250;
      try {
        const client = await this.session.connection();
        if (!this.isLeader) await this.tryLead();
        if (this.isLeader) {
          await this.lingerAfterPartialRound();
          this.lastRoundAt = this.now();
          const outcome = await this.round.publishBatch(client);
          if ('failed' in outcome) {
            delay = this.outage.failed('kafka', outcome.failed);
            drained = draining;
          } else {
            this.outage.succeeded();
            if (outcome.full) {
              delay = 0;
              this.lastRoundAt = -Infinity;
            } else drained = draining;
            if (!draining) await this.pruneWhenDue();
          }
        } else {
          this.outage.succeeded();
        }
      } catch (err) {
        // The database session is gone or broken (or the lock could not be re-proved): leadership goes with it.
        this.session.drop();
        this.metrics.leader.set(0);
        delay = this.outage.failed('postgres', err);
        drained = draining;
      }
      if (delay > 0 && !this.stopping) await this.sleep(delay);
    }
  }

  private async tryLead(): Promise<void> {
    const client = await this.session.connection();
    const wait = await this.session.tryLead(client);
    if (wait === null) return;
    this.metrics.leader.set(1);
    this.log.info({ waitMs: Math.round(wait) }, 'outbox relay is now the active publisher');
    // The previous publisher's send may still be on its way to Kafka: let it land first.
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }

  /** Waits out the rest of `lingerMs` since the last partial round (not when stopping), at most `lingerMs`. */
  private async lingerAfterPartialRound(): Promise<void> {
    const lingerMs = this.options.lingerMs ?? 100;
    const wait = Math.min(lingerMs, this.lastRoundAt + lingerMs - this.now());
    if (!(wait > 0) || this.stopping) return;
    await new Promise((resolve) => setTimeout(resolve, wait));
  }

  private async pruneWhenDue(): Promise<void> {
    const now = this.now();
    const interval = this.options.pruneIntervalMs ?? 60_000;
    if (now - this.lastPruneAt < interval && now >= this.lastPruneAt) return;
    this.lastPruneAt = now;
    try {
      await this.prune();
    } catch (err) {
      this.log.warn({ err: errorText(err) }, 'outbox: could not delete published events past retention');
    }
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
}
