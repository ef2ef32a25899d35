import { Client as PgClient } from 'pg';
import type { Logger } from '../../logger';
import {
  leaseRemainingMs,
  listenForCommits,
  releasePublisherLock,
  takeSendLease,
  tryPublisherLock,
} from '../../db/outbox-relay-store';
import { within } from '../../lib/wait';
import { errorText } from './util';

export interface LeaderSessionOptions {
  databaseUrl: string;
  lockName: string;
  /** How long a send may take: the lease a publisher takes before each send. */
  leaseMs: number;
  logger: Logger;
  /** A lost session or a NOTIFY: the relay's loop should look again now. */
  onWake: () => void;
}

/**
 * The relay's one PostgreSQL session and the publisher role it carries. The session that holds
 * the session-level advisory lock `pg_try_advisory_lock(hashtextextended(lockName, 0))` publishes
 * (and LISTENs); PostgreSQL releases the lock when the session ends, which TCP keepalives on both
 * ends bound to well under a minute when a host vanishes (not the kernel's ~2 h default).
 *
 * Ownership is re-proved before each send (`leaseBeforeSend`): a statement that succeeds on the
 * lock session proves the session, and with it the lock, is alive at that moment; it also records
 * a lease (`busy_until`) covering the send. A new publisher waits out that lease before its first
 * send, so a zombie's batch already on its way to Kafka cannot land after the new publisher's.
 */
export class LeaderSession {
  private client: PgClient | null = null;
  private connecting: Promise<PgClient> | null = null;
  private leading = false;

  constructor(private readonly options: LeaderSessionOptions) {}

  get isLeader(): boolean {
    return this.leading;
  }

  /** The session, if open (metrics read through it). */
  get current(): PgClient | null {
    return this.client;
  }

  connection(): Promise<PgClient> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async connect(): Promise<PgClient> {
    const client = new PgClient({
      connectionString: this.options.databaseUrl,
      application_name: 'outbox-relay',
      statement_timeout: 15_000,
      query_timeout: 20_000,
      connectionTimeoutMillis: 5_000,
      idle_in_transaction_session_timeout: 30_000,
      // Client side: notice a vanished server; server side: drop a vanished relay and its lock.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      options:
        '-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3 -c tcp_user_timeout=30000',
    });
    client.on('error', (err) => {
      this.options.logger.warn({ err: errorText(err) }, 'outbox relay lost its database session');
      if (this.client === client) this.drop();
      this.options.onWake();
    });
    client.on('notification', () => this.options.onWake());
    try {
      await client.connect();
    } catch (err) {
      void client.end().catch(() => undefined);
      throw err;
    }
    this.client = client;
    return client;
  }

  /** Forgets a broken session; leadership goes with it. */
  drop(): void {
    const client = this.client;
    this.client = null;
    if (this.leading) this.options.logger.warn('outbox relay is no longer the active publisher');
    this.leading = false;
    if (client) void client.end().catch(() => undefined);
  }

  /**
   * Tries to become the publisher; true when this call made it so. Returns how long to wait
   * before the first send: the rest of the previous publisher's lease (0 when there was none).
   */
  async tryLead(client: PgClient): Promise<number | null> {
    if (!(await tryPublisherLock(client, this.options.lockName))) return null;
    this.leading = true;
    // Only the publisher listens: a standby would wake on every commit just to retry the lock.
    await listenForCommits(client);
    const remaining = await leaseRemainingMs(client, this.options.lockName);
    // Clamped: a lease from a clock far ahead must not keep the new publisher idle.
    return Math.min(Math.max(0, remaining ?? 0), this.options.leaseMs);
  }

  /** Proves the lock is still held (throws otherwise) and takes the lease for one send. */
  async leaseBeforeSend(client: PgClient): Promise<void> {
    await takeSendLease(client, this.options.lockName, this.options.leaseMs);
  }

  /** Releases the lock (handing over at once) and closes the session. */
  async release(): Promise<void> {
    const client = this.client;
    const wasLeader = this.leading;
    this.client = null;
    this.leading = false;
    if (!client) return;
    if (wasLeader) await releasePublisherLock(client).catch(() => undefined);
    await within(
      client.end().catch(() => undefined),
      2_000,
    );
  }
}
