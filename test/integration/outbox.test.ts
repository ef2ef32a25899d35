import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { Database } from '../../src/db/database';
import { initOrm, migrate } from '../../src/db/orm';
import { insertOutboxEvent } from '../../src/db/outbox-store';
import { testConfig } from '../support/stack';

describe('PostgreSQL: migrations and the outbox store', () => {
  let orm: MikroORM;
  let db: Database;

  beforeAll(async () => {
    orm = await initOrm(testConfig());
    db = new Database(testConfig());
  });

  afterAll(async () => {
    await orm.close(true);
    await db.close();
  });

  it('has the outbox migration applied, and re-running migrations is a no-op', async () => {
    expect(await migrate(orm)).toEqual([]);
    const rows = await db.execute<{ name: string }[]>('select name from mikro_orm_migrations order by id');
    expect(rows.map((r) => r.name)).toContain('Migration20261127000000_outbox');
    const cols = await db.execute<{ column_name: string }[]>(
      "select column_name from information_schema.columns where table_name = 'outbox_events'",
    );
    expect(cols.map((c) => c.column_name).sort()).toEqual(
      [
        'attempts',
        'created_at',
        'event_id',
        'event_type',
        'headers',
        'id',
        'last_error',
        'message_key',
        'parked_at',
        'payload',
        'published_at',
        'topic',
      ].sort(),
    );
  });

  it('stores an event as written and ignores a second write of the same event id', async () => {
    const eventId = randomUUID();
    // Key order and spacing as written: the column is `json`, so the relay can send the text unchanged.
    const payload = `{"event_id":"${eventId}", "event_type":"user_registered","data":{"user_id":"user-1"}}`;
    const row = {
      eventId,
      topic: 'auth-events',
      messageKey: 'user-1',
      eventType: 'user_registered',
      payload,
      headers: `{"event_id":"${eventId}","event_type":"user_registered","request_id":"r-1"}`,
    };
    expect(await insertOutboxEvent(db, row)).toBe(true);
    expect(await insertOutboxEvent(db, { ...row, payload: '{}' })).toBe(false);

    const rows = await db.execute<
      { payload: string; message_key: string; published_at: Date | null; attempts: number }[]
    >('select payload::text as payload, message_key, published_at, attempts from outbox_events where event_id = $1', [
      eventId,
    ]);
    expect(rows).toEqual([{ payload, message_key: 'user-1', published_at: null, attempts: 0 }]);
  });
});
