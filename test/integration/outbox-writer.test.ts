import { randomUUID } from 'node:crypto';
import { Client as PgClient } from 'pg';
import { Database } from '../../src/db/database';
import { OutboxWriter } from '../../src/events/outbox-writer';
import { createLogger } from '../../src/logger';
import { testConfig } from '../support/stack';

const config = testConfig();

function event(requestId: string) {
  return {
    eventType: 'user_info_requested' as const,
    data: { user_id: randomUUID() },
    requestId,
    actor: { user_id: null, ip: '127.0.0.1' },
  };
}

describe('OutboxWriter (group commit of direct routes) against PostgreSQL', () => {
  let db: Database;

  beforeAll(async () => {
    db = new Database(config);
  });

  afterAll(async () => {
    await db.close();
  });

  async function storedCounts(requestIds: string[]): Promise<Map<string, number>> {
    const rows = await db.execute<{ request_id: string; n: number }[]>(
      `select headers->>'request_id' as request_id, count(*)::int as n from outbox_events
        where headers->>'request_id' = any($1::text[]) group by 1`,
      [requestIds],
    );
    return new Map(rows.map((r) => [r.request_id, r.n]));
  }

  it('writes every event exactly once when inserts are slower than the flush interval', async () => {
    const writer = new OutboxWriter(db, config, createLogger('silent'));
    // Another session holds the table for 300 ms while events keep arriving, before and after.
    const blocker = new PgClient({ connectionString: config.DATABASE_URL });
    await blocker.connect();
    await blocker.query('begin');
    await blocker.query('lock table outbox_events in share row exclusive mode');
    const released = new Promise((r) => setTimeout(r, 300)).then(async () => {
      await blocker.query('commit');
      await blocker.end();
    });
    const ids: string[] = [];
    const written: Promise<boolean>[] = [];
    for (let i = 0; i < 120; i++) {
      const id = `writer-slow-${randomUUID()}`;
      ids.push(id);
      written.push(writer.write(event(id)));
      await new Promise((r) => setTimeout(r, 5));
    }
    await released;
    const settled = await Promise.race([
      Promise.all(written),
      new Promise<'some writes never settled'>((r) => setTimeout(() => r('some writes never settled'), 10_000)),
    ]);
    await writer.close();
    const counts = await storedCounts(ids);
    expect(ids.filter((id) => counts.get(id) !== 1)).toEqual([]);
    expect(settled).toEqual(ids.map(() => true));
    expect(writer.pending).toBe(0);
  });

  it('lets read events wait for company, and an awaited event takes them along', async () => {
    const writer = new OutboxWriter(db, config, createLogger('silent'), 1_000, 60_000);
    const reads = [`writer-read-${randomUUID()}`, `writer-read-${randomUUID()}`];
    const readWrites = reads.map((id) => writer.write(event(id), { read: true }));
    await new Promise((r) => setTimeout(r, 200));
    expect(await storedCounts(reads)).toEqual(new Map()); // still gathering (60 s linger)
    expect(writer.pending).toBe(2);

    const awaited = `writer-awaited-${randomUUID()}`;
    expect(await writer.write(event(awaited))).toBe(true);
    expect(await Promise.all(readWrites)).toEqual([true, true]);
    const counts = await storedCounts([...reads, awaited]);
    expect([...reads, awaited].map((id) => counts.get(id))).toEqual([1, 1, 1]);

    const last = `writer-read-${randomUUID()}`;
    void writer.write(event(last), { read: true });
    await writer.close(); // close() writes what is still gathering
    expect((await storedCounts([last])).get(last)).toBe(1);
  });
});
