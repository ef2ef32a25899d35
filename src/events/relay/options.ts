import type { Logger } from '../../logger';
import type { Registry } from 'prom-client';
import type { RelayProducer } from './round';

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
   * NOTIFY wakes the relay earlier: under load, rows gather into fewer, larger rounds. Default 100.
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
  /** Longest one Kafka send may take; a new publisher waits this (plus a margin) out. Default 10000. */
  sendTimeoutMs?: number;
  /** Kafka refusals of one row before it is parked. Default 5. */
  maxRejections?: number;
  /** Where the outbox metrics are registered (more can be added with `registerMetrics`). */
  registry?: Registry;
  /** Name of the advisory lock relays compete for; only relays sharing it exclude each other. */
  lockName?: string;
  /** For tests: a producer that records what it is given, or fails, in place of kafkajs'. */
  createProducer?: () => RelayProducer;
  /** For tests: monotonic milliseconds (default `performance.now`). */
  now?: () => number;
  /** For tests: runs between a round's SELECT and its send. */
  afterSelect?: () => Promise<void>;
}
