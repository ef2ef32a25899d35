import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Client as PgClient } from 'pg';
import { errorText } from '../events/relay/util';
import { within } from '../lib/wait';

/** First key of the two-key advisory locks that mark live gateway instances (second key: the instance's lock id). */
export const INSTANCE_LOCK_CLASS = 0x1de4;
const RECONNECT_MS = 1_000;

export interface InstanceSessionOptions {
  databaseUrl: string;
  logger: { warn(obj: object, msg: string): void };
}

/**
 * This process's liveness, as PostgreSQL sees it: one session holding the advisory lock
 * (INSTANCE_LOCK_CLASS, lockId). Idempotency-Key claims record `lockId`; while the lock is held
 * the claim's owner is alive, whatever its event loop is doing. When the process dies the kernel
 * closes the socket and PostgreSQL drops the lock at once (a vanished host: TCP keepalives, well
 * under a minute), so another replica may take the claim over. A lost session is reopened every
 * second and takes the same lock id again.
 */
export class InstanceSession {
  /** Positive, so it reads the same as an int4 column and as pg_locks.objid (an oid). */
  readonly lockId = randomInt(1, 2 ** 31 - 1);
  private client: PgClient | null = null;
  private heldSince: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** A warning per streak of failed attempts, not one a second. */
  private failing = false;

  constructor(private readonly options: InstanceSessionOptions) {}

  /** Opens the session in the background (the gateway starts while PostgreSQL is away). */
  start(): void {
    void this.connect();
  }

  get holding(): boolean {
    return this.heldSince !== undefined;
  }

  /** How long this process has held its lock without a break; 0 while it does not hold it. */
  heldForMs(): number {
    return this.heldSince === undefined ? 0 : performance.now() - this.heldSince;
  }

  private schedule(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.connect();
    }, RECONNECT_MS);
    this.timer.unref();
  }

  private async connect(): Promise<void> {
    if (this.closed || this.client) return;
    const client = new PgClient({
      connectionString: this.options.databaseUrl,
      application_name: 'gateway-instance',
      statement_timeout: 5_000,
      query_timeout: 10_000,
      connectionTimeoutMillis: 5_000,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      // Server side: a vanished host's session, and its lock, end within about 30 s.
      options:
        '-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3 -c tcp_user_timeout=30000',
    });
    client.on('error', (err) => {
      this.options.logger.warn({ err: errorText(err) }, 'gateway instance lost its database session');
      this.drop(client);
    });
    client.on('end', () => this.drop(client));
    try {
      await client.connect();
      const res = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1, $2) as ok', [
        INSTANCE_LOCK_CLASS,
        this.lockId,
      ]);
      // Not granted: our previous session is not gone yet on the server side; it still holds it.
      if (res.rows[0]?.ok !== true) throw new Error('instance lock still held by an older session');
      if (this.closed) throw new Error('closed');
      this.client = client;
      this.heldSince = performance.now();
      this.failing = false;
    } catch (err) {
      if (!this.closed && !this.failing)
        this.options.logger.warn({ err: errorText(err) }, 'gateway instance lock not taken yet; retrying every second');
      this.failing = true;
      void client.end().catch(() => undefined);
      this.schedule();
    }
  }

  private drop(client: PgClient): void {
    if (this.client !== client) return;
    this.client = null;
    this.heldSince = undefined;
    void client.end().catch(() => undefined);
    this.schedule();
  }

  /** Ends the session: its lock goes with it. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = null;
    this.heldSince = undefined;
    if (client)
      await within(
        client.end().catch(() => undefined),
        2_000,
      );
  }
}
