import { Pool, type PoolClient, type QueryResult } from 'pg';
import type { Config } from '../config';
import type { Logger } from '../logger';

/**
 * What a store runs its SQL on: the pool, or the session of a transaction (docs/adr/0013).
 * Statements use `$1`-style parameters, bound by PostgreSQL (never formatted into the text).
 */
export interface Sql {
  /** Runs one statement; resolves to its rows. */
  execute<T extends object[] = object[]>(text: string, values?: unknown[]): Promise<T>;
}

/** pg's error for a statement that outlived `query_timeout` (it is still running on its session). */
const QUERY_TIMEOUT = 'Query read timeout';

/** The pooled connections of a process (API or worker), on `pg` (docs/adr/0013). */
export class Database implements Sql {
  private readonly pool: Pool;

  constructor(
    config: Pick<Config, 'DATABASE_URL' | 'DATABASE_POOL_MAX'>,
    logger?: Logger,
    /** Client-side bound of a statement, for a server that never answers (tests shorten it). */
    options: { queryTimeoutMs?: number } = {},
  ) {
    this.pool = new Pool({
      connectionString: config.DATABASE_URL,
      max: config.DATABASE_POOL_MAX,
      min: 0,
      idleTimeoutMillis: 30_000,
      // Bounded waits everywhere: connecting, and waiting for a pooled connection while all are
      // busy (pg-pool applies this one timeout to both), 5 s; each statement 15 s on the server,
      // and 20 s on the client in case the server never answers (a partition).
      connectionTimeoutMillis: 5_000,
      statement_timeout: 15_000,
      query_timeout: options.queryTimeoutMs ?? 20_000,
    });
    // An idle connection that PostgreSQL closes (a restart) emits here; unhandled, it would end the
    // process. The pool drops that connection and opens a new one when next needed.
    this.pool.on('error', (err) => logger?.warn({ component: 'pg-pool', err: err.message }, 'idle connection lost'));
  }

  execute<T extends object[] = object[]>(text: string, values: unknown[] = []): Promise<T> {
    return rowsOf<T>(this.pool, text, values);
  }

  /**
   * Runs `work` in one transaction on one pooled session: committed when it resolves, rolled back
   * when it throws (the error is rethrown). A session that was lost, or whose statement outlived
   * `query_timeout`, or whose rollback failed is closed, not reused; closing it ends the
   * transaction on the server.
   */
  async transaction<R>(work: (tx: Sql) => Promise<R>): Promise<R> {
    const client = await this.pool.connect();
    // pg-pool takes its own listener off a client it hands out: without this one, a session that
    // PostgreSQL ends while checked out (a restart, a failover) would emit an unhandled 'error'
    // and end the process.
    let broken: Error | undefined;
    const onError = (err: Error) => {
      broken ??= err;
    };
    client.on('error', onError);
    try {
      await client.query('begin');
      const result = await work(sessionSql(client));
      await client.query('commit');
      return result;
    } catch (err) {
      // A timed-out statement still runs on the session, and a rollback would wait behind it.
      if (err instanceof Error && err.message === QUERY_TIMEOUT) broken ??= err;
      if (!broken)
        await client.query('rollback').catch((rollbackErr: Error) => {
          broken = rollbackErr;
        });
      throw err;
    } finally {
      // A closed session keeps the listener: its socket may still report on the way out.
      if (!broken) client.removeListener('error', onError);
      client.release(broken);
    }
  }

  /** Closes every connection (waits for the ones in use to be released). */
  close(): Promise<void> {
    return this.pool.end();
  }
}

function sessionSql(client: PoolClient): Sql {
  return {
    execute: <T extends object[] = object[]>(text: string, values: unknown[] = []) => rowsOf<T>(client, text, values),
  };
}

/** One statement on the pool or on a checked-out session; its rows. */
async function rowsOf<T extends object[]>(
  on: { query(text: string, values: unknown[]): Promise<QueryResult> },
  text: string,
  values: unknown[],
): Promise<T> {
  return (await on.query(text, values)).rows as T;
}
