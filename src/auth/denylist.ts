import { Client } from 'pg';
import type { Sql } from '../db/database';
import {
  deleteExpiredRevocations,
  insertRevokedToken,
  isRevokedInDatabase,
  listenForRevocations,
  loadRevocations,
} from '../db/revoked-token-store';
import { HttpError } from '../errors';
import type { Logger } from '../logger';
import { tokenHash } from './hashing';
import { errorMessage } from '../lib/error-message';
import { within } from '../lib/wait';

/** A LISTEN socket that died silently (no FIN: NAT, failover) is noticed within about 30 s. */
const HEARTBEAT_MS = 10_000;
const HEARTBEAT_TIMEOUT_MS = 5_000;
const KEEPALIVE_DELAY_MS = 10_000;
/** Names the LISTEN session in pg_stat_activity (operators, tests). */
export const LISTENER_APPLICATION_NAME = 'gateway-denylist-listener';

/**
 * The logout denylist. Revocations are rows in PostgreSQL (survive restarts, shared by every
 * replica) and are pushed to every replica at commit time with LISTEN/NOTIFY, so the check on the
 * request path is an in-memory lookup. While the LISTEN connection is down a replica cannot know
 * about new revocations, so it asks the database on each check until it has resynchronised. If the
 * database cannot answer either, the in-memory list stands in for at most `maxStalenessMs` after
 * the listener was lost (docs/security-denylist.md); after that, checks fail closed.
 */
export class TokenDenylist {
  private readonly revoked = new Map<string, number>(); // hash → exp (ms)
  private listener: Client | undefined;
  private synced = false;
  private closed = false;
  private purgeTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  /** Until when the in-memory list may answer for an unreachable database (0: never synchronised). */
  private trustMemoryUntil = 0;
  /** After a failed database check, the next ones skip the database until then (no query per request on a dead server). */
  private skipDatabaseUntil = 0;
  private staleWarned = false;

  constructor(
    private readonly databaseUrl: string,
    /** The shared pool, for the revocation rows. */
    private readonly db: Sql,
    private readonly logger: Logger,
    /** DENYLIST_MAX_STALENESS: how long a replica that lost the database keeps trusting its in-memory list. */
    private readonly maxStalenessMs = 60_000,
  ) {}

  async start(): Promise<void> {
    this.purgeTimer = setInterval(() => this.purgeMemory(), 30_000);
    this.purgeTimer.unref();
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), HEARTBEAT_MS);
    this.heartbeatTimer.unref();
    await this.connect().catch((err: unknown) => this.scheduleReconnect(err));
  }

  async revoke(token: string, expSeconds: number, userId: string | null): Promise<void> {
    const hash = tokenHash(token);
    const exp = new Date(expSeconds * 1000);
    try {
      await insertRevokedToken(this.db, hash, userId, exp);
    } catch (err) {
      // A logout the other replicas never hear of would be silently lost: the client must retry.
      this.logger.warn({ error: errorMessage(err) }, 'token revocation not recorded');
      throw new HttpError('upstream_unavailable', 'Logout cannot be recorded right now; retry later', {
        headers: { 'retry-after': '5' },
      });
    }
    this.revoked.set(hash, exp.getTime());
  }

  /** Whether the token whose `tokenHash` this is was logged out (and has not expired yet). */
  async isRevoked(hash: string): Promise<boolean> {
    const exp = this.revoked.get(hash);
    if (exp !== undefined) return exp > Date.now();
    if (this.synced) return false;
    const now = Date.now();
    if (now < this.skipDatabaseUntil && now < this.trustMemoryUntil) return false;
    let revoked: boolean;
    try {
      revoked = await isRevokedInDatabase(this.db, hash);
    } catch (err) {
      const error = errorMessage(err);
      if (Date.now() < this.trustMemoryUntil) {
        this.skipDatabaseUntil = Date.now() + 1_000;
        if (!this.staleWarned) this.logger.warn({ error }, 'token denylist unreachable; serving from memory');
        this.staleWarned = true;
        return false;
      }
      // Fail closed: past the staleness bound a logged-out token cannot be told from a live one.
      this.logger.warn({ error }, 'token denylist unreachable');
      throw new HttpError('upstream_unavailable', 'Token revocation cannot be checked right now; retry later', {
        headers: { 'retry-after': '5' },
      });
    }
    return revoked;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.purgeTimer);
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.reconnectTimer);
    await this.listener?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new Client({
      connectionString: this.databaseUrl,
      connectionTimeoutMillis: 5_000,
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
      application_name: LISTENER_APPLICATION_NAME,
    });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    client.on('notification', (msg) => {
      const [hash, exp] = (msg.payload ?? '').split(':');
      if (hash && exp) this.revoked.set(hash, Number(exp));
    });
    let revocations: { hash: string; expMs: number }[];
    try {
      await client.connect();
      await listenForRevocations(client);
      // close() ran meanwhile: it had no listener to end, so this session must not outlive it.
      if (this.closed) {
        await client.end().catch(() => undefined);
        return;
      }
      this.listener = client;
      // Load after LISTEN, so a revocation between the two is seen by one of them.
      revocations = await loadRevocations(client);
    } catch (err) {
      if (this.listener === client) this.listener = undefined;
      await client.end().catch(() => undefined); // a half-open session must not linger
      throw err;
    }
    for (const r of revocations) this.revoked.set(r.hash, r.expMs);
    this.synced = true;
    this.staleWarned = false;
    this.logger.debug({ revoked: revocations.length }, 'token denylist synchronised');
  }

  /** A query on the LISTEN connection: an error or no answer in time means the socket is gone. */
  private async heartbeat() {
    const client = this.listener;
    if (!client) return;
    try {
      const answered = await within(client.query('select 1'), HEARTBEAT_TIMEOUT_MS);
      if (answered === undefined) throw new Error('heartbeat timed out');
    } catch (err) {
      this.lost(client, err instanceof Error ? err : new Error(String(err)));
      // Without awaiting: ending a dead socket may never complete.
      void client.end().catch(() => undefined);
    }
  }

  private lost(client: Client, err: Error) {
    if (this.listener !== client) return;
    this.listener = undefined;
    // Complete up to now; the bound starts here, not at a later reconnect failure.
    if (this.synced) this.trustMemoryUntil = Date.now() + this.maxStalenessMs;
    this.synced = false;
    if (!this.closed) this.scheduleReconnect(err);
  }

  private scheduleReconnect(err: unknown) {
    if (this.closed) return;
    this.synced = false;
    this.logger.warn({ error: errorMessage(err) }, 'token denylist listener down; checking the database per request');
    this.reconnectTimer = setTimeout(() => {
      this.connect().catch((e: unknown) => this.scheduleReconnect(e));
    }, 2_000);
    this.reconnectTimer.unref();
  }

  private purgeMemory() {
    const now = Date.now();
    for (const [hash, exp] of this.revoked) if (exp <= now) this.revoked.delete(hash);
    void deleteExpiredRevocations(this.db).catch(() => undefined);
  }
}
