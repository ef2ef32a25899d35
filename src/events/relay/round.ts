import type { Client as PgClient } from 'pg';
import type { Producer } from 'kafkajs';
import {
  markOutboxPublished,
  parkOutboxRow,
  recordSendFailure,
  selectUnpublished,
  type OutboxRow,
} from '../../db/outbox-relay-store';
import { groupByTopic } from '../../kafka/batching-producer';
import type { Logger } from '../../logger';
import type { RelayMetrics } from './metrics';
import { within } from '../../lib/wait';
import { connectedProducer, discardProducer } from './producer';
import { errorText } from './util';

/** What the relay needs of a producer. */
export type RelayProducer = Pick<Producer, 'connect' | 'disconnect' | 'sendBatch'>;

export type BatchOutcome = { published: number; full: boolean } | { failed: unknown; published: number };

/** Rejections that name the producer's state, not the message: a new producer fixes them. */
const PRODUCER_STATE_ERRORS = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'INVALID_PRODUCER_EPOCH',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_ID_MAPPING',
]);
const MAX_KEY_HOLD_MS = 5 * 60_000;

/** A Kafka refusal of the records themselves (too large, invalid), as opposed to an outage. */
export function isRecordRejected(err: unknown): boolean {
  const e = err as { name?: string; retriable?: boolean; type?: string; cause?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (e.name === 'KafkaJSNumberOfRetriesExceeded') return isRecordRejected(e.cause);
  return e.name === 'KafkaJSProtocolError' && e.retriable === false && !PRODUCER_STATE_ERRORS.has(e.type ?? '');
}

export interface RoundOptions {
  batchSize: number;
  /** Client-side bound of one Kafka send; the lease covers it. */
  sendTimeoutMs: number;
  /** Refusals of one row before it is parked. */
  maxRejections: number;
  lockName: string;
  logger: Logger;
  metrics: RelayMetrics;
  now: () => number;
  backoff: (failures: number, max: number) => number;
  producer: () => RelayProducer;
  /** Re-proves the lock on the session and takes the send's lease; throws when the lock is gone. */
  beforeSend: (client: PgClient) => Promise<void>;
  /** Tests only: runs between the SELECT and the ownership check. */
  afterSelect?: () => Promise<void>;
}

/**
 * One publishing round: select unpublished rows in id order, send, mark. A row Kafka refuses
 * holds back only its own key, with backoff; after `maxRejections` refusals it is parked (kept,
 * counted, no longer sent) and its key's later events go on: per-key order then has one known,
 * visible gap rather than a key stopped forever (docs/reliability.md).
 */
export class RelayRound {
  private producer: RelayProducer | null = null;
  /** Keys whose head row Kafka rejected, held back until the (monotonic) time given. */
  private readonly heldKeys = new Map<string, number>();

  constructor(private readonly o: RoundOptions) {}

  async publishBatch(client: PgClient): Promise<BatchOutcome> {
    const now = this.o.now();
    for (const [key, until] of this.heldKeys)
      if (until <= now || until > now + MAX_KEY_HOLD_MS) this.heldKeys.delete(key);
    const rows = await selectUnpublished(client, this.o.batchSize, [...this.heldKeys.keys()]);
    if (rows.length === 0) return { published: 0, full: false };
    await this.o.afterSelect?.();
    try {
      await this.send(client, rows);
    } catch (err) {
      if (!isRecordRejected(err)) {
        await this.markFailed(client, rows, err);
        await this.resetProducer();
        return { failed: err, published: 0 };
      }
      return this.publishOneByOne(client, rows);
    }
    await this.markPublished(client, rows);
    return { published: rows.length, full: rows.length === this.o.batchSize };
  }

  /** Kafka refused something in the batch: find the row, hold back (or park) it, publish the rest in order. */
  private async publishOneByOne(client: PgClient, rows: OutboxRow[]): Promise<BatchOutcome> {
    const held = new Set<string>();
    let published = 0;
    for (const row of rows) {
      if (held.has(row.message_key)) continue;
      try {
        await this.send(client, [row]);
      } catch (err) {
        if (!isRecordRejected(err)) {
          await this.markFailed(client, [row], err);
          await this.resetProducer();
          return { failed: err, published };
        }
        if (row.attempts + 1 >= this.o.maxRejections) {
          await this.park(client, row, err);
          continue;
        }
        await this.markFailed(client, [row], err);
        held.add(row.message_key);
        this.heldKeys.set(row.message_key, this.o.now() + this.o.backoff(row.attempts + 1, MAX_KEY_HOLD_MS));
        this.o.logger.error(
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

  private async send(client: PgClient, rows: OutboxRow[]): Promise<void> {
    const producer = await this.producerReady();
    await this.o.beforeSend(client);
    const topicMessages = groupByTopic(
      rows.map((row) => ({
        topic: row.topic,
        // Keyed by its own id = no subject (token_validated of an invalid token): no key (events.md).
        message: {
          key: row.message_key === row.event_id ? null : row.message_key,
          value: row.value,
          headers: row.headers ?? {},
        },
      })),
    );
    const timeout = this.o.sendTimeoutMs;
    const sent = await within(
      producer.sendBatch({ topicMessages, acks: -1, timeout }).then(() => true),
      timeout,
    );
    if (!sent) {
      // Disconnecting cuts kafkajs' own retries: nothing of this batch is sent after the lease ends.
      await this.resetProducer();
      throw new Error(`Kafka send timed out after ${timeout} ms`);
    }
  }

  private async markPublished(client: PgClient, rows: OutboxRow[]): Promise<void> {
    // Ends the lease in the same statement: nothing of ours is in flight any more.
    await markOutboxPublished(
      client,
      rows.map((r) => r.id),
      this.o.lockName,
    );
    this.o.metrics.published.inc(rows.length);
  }

  private async markFailed(client: PgClient, rows: OutboxRow[], err: unknown): Promise<void> {
    this.o.metrics.failures.inc(rows.length);
    await recordSendFailure(
      client,
      rows.map((r) => r.id),
      errorText(err),
    );
  }

  private async park(client: PgClient, row: OutboxRow, err: unknown): Promise<void> {
    this.o.metrics.failures.inc();
    this.o.metrics.parkedTotal.inc();
    this.heldKeys.delete(row.message_key);
    await parkOutboxRow(client, row.id, errorText(err));
    this.o.logger.error(
      {
        err: errorText(err),
        eventId: row.event_id,
        topic: row.topic,
        key: row.message_key,
        attempts: row.attempts + 1,
      },
      'Kafka refused an outbox event for good; parked it (kept in the table) and publishing its key goes on',
    );
  }

  private async producerReady(): Promise<RelayProducer> {
    this.producer ??= await connectedProducer(() => this.o.producer());
    return this.producer;
  }

  async resetProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = null;
    await discardProducer(producer);
  }
}
