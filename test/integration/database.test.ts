import { randomUUID } from 'node:crypto';
import { Client as PgClient } from 'pg';
import { Database } from '../../src/db/database';
import { testConfig } from '../support/stack';

const config = testConfig();

/** The pooled connections of the API and the worker (src/db/database.ts) against PostgreSQL. */
describe('Database (pg pool)', () => {
  let db: Database;

  beforeAll(() => {
    db = new Database(config);
  });

  afterAll(async () => {
    await db.close();
  });

  const keptRows = (runKey: string) =>
    db.execute<{ run_key: string }[]>('select run_key from upstream_invites where run_key = $1', [runKey]);

  it('commits a transaction that resolves, with every statement on one session', async () => {
    const runKey = `db-test-${randomUUID()}`;
    const pids = await db.transaction(async (tx) => {
      const [a] = await tx.execute<{ pid: number }[]>('select pg_backend_pid() as pid');
      await tx.execute('insert into upstream_invites (run_key, invite_token) values ($1, $2)', [runKey, 'sealed']);
      const [b] = await tx.execute<{ pid: number }[]>('select pg_backend_pid() as pid');
      return [a!.pid, b!.pid];
    });
    expect(pids[0]).toBe(pids[1]);
    expect(await keptRows(runKey)).toEqual([{ run_key: runKey }]);
    await db.execute('delete from upstream_invites where run_key = $1', [runKey]);
  });

  it('rolls back a transaction that throws and rethrows its error', async () => {
    const runKey = `db-test-${randomUUID()}`;
    const failure = new Error('activity failed after its insert');
    await expect(
      db.transaction(async (tx) => {
        await tx.execute('insert into upstream_invites (run_key, invite_token) values ($1, $2)', [runKey, 'sealed']);
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await keptRows(runKey)).toEqual([]);
  });

  it('binds parameters (never formats them into the text)', async () => {
    const hostile = "x'); drop table upstream_invites; --";
    const [row] = await db.execute<{ v: string; n: number }[]>('select $1::text as v, $2::int as n', [hostile, 7]);
    expect(row).toEqual({ v: hostile, n: 7 });
  });

  it('bounds each statement on the server (statement_timeout 15 s)', async () => {
    const [row] = await db.execute<{ statement_timeout: string }[]>('show statement_timeout');
    expect(row!.statement_timeout).toBe('15s');
  });

  it('bounds the wait for a pooled connection when every one is busy', async () => {
    const one = new Database({ ...config, DATABASE_POOL_MAX: 1 });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    try {
      const holder = one.transaction(async (tx) => {
        await tx.execute('select 1');
        await held;
      });
      await new Promise((r) => setTimeout(r, 100));
      const started = Date.now();
      await expect(one.execute('select 1')).rejects.toThrow(/timeout/i);
      const waitedMs = Date.now() - started;
      expect(waitedMs).toBeGreaterThanOrEqual(4_500);
      expect(waitedMs).toBeLessThan(8_000);
      release();
      await holder;
      // The connection is free again once the transaction ends.
      expect(await one.execute<{ one: number }[]>('select 1 as one')).toEqual([{ one: 1 }]);
    } finally {
      release();
      await one.close();
    }
  }, 20_000);

  it('survives PostgreSQL ending a session in the middle of a transaction', async () => {
    const admin = new PgClient({ connectionString: config.DATABASE_URL });
    await admin.connect();
    try {
      await expect(
        db.transaction(async (tx) => {
          const [me] = await tx.execute<{ pid: number }[]>('select pg_backend_pid() as pid');
          await admin.query('select pg_terminate_backend($1)', [me!.pid]);
          // The session's end reaches this checked-out client while it is idle in its transaction.
          await new Promise((r) => setTimeout(r, 300));
          await tx.execute('select 1');
        }),
      ).rejects.toThrow();
    } finally {
      await admin.end();
    }
    // Unhandled, the checked-out connection's error would end this process (and fail the suite).
    expect(await db.execute<{ one: number }[]>('select 1 as one')).toEqual([{ one: 1 }]);
  });

  it('gives a transaction up when its statement outlives the client-side timeout, without waiting for it', async () => {
    const short = new Database(config, undefined, { queryTimeoutMs: 1_000 });
    try {
      const started = Date.now();
      await expect(short.transaction((tx) => tx.execute('select pg_sleep(5)'))).rejects.toThrow('Query read timeout');
      // A rollback would queue behind the sleeping statement and give up only after its own
      // timeout (2 s in all); the session is closed instead.
      expect(Date.now() - started).toBeLessThan(1_700);
      expect(await short.execute<{ one: number }[]>('select 1 as one')).toEqual([{ one: 1 }]);
    } finally {
      await short.close();
    }
  });

  it('survives PostgreSQL closing an idle pooled connection, and opens a new one', async () => {
    const [before] = await db.execute<{ pid: number }[]>('select pg_backend_pid() as pid');
    const admin = new PgClient({ connectionString: config.DATABASE_URL });
    await admin.connect();
    try {
      const [ended] = (await admin.query('select pg_terminate_backend($1) as ok', [before!.pid])).rows;
      expect(ended.ok).toBe(true);
    } finally {
      await admin.end();
    }
    // Unhandled, the idle connection's error would end this process (and fail the suite).
    await new Promise((r) => setTimeout(r, 300));
    const [after] = await db.execute<{ pid: number }[]>('select pg_backend_pid() as pid');
    expect(after!.pid).not.toBe(before!.pid);
  });
});
