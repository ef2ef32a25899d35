import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { OutboxEvent } from '../../src/db/entities/outbox-event.entity';
import { initOrm, migrate } from '../../src/db/orm';
import { testConfig } from '../support/stack';

describe('PostgreSQL through MikroORM', () => {
  let orm: MikroORM;

  beforeAll(async () => {
    orm = await initOrm(testConfig());
  });

  afterAll(async () => {
    await orm.close(true);
  });

  it('has the outbox migration applied, and re-running migrations is a no-op', async () => {
    expect(await migrate(orm)).toEqual([]);
    const rows = await orm.em
      .getConnection()
      .execute<{ name: string }[]>('select name from mikro_orm_migrations order by id');
    expect(rows.map((r) => r.name)).toContain('Migration20261127000000_outbox');
    const cols = await orm.em
      .getConnection()
      .execute<{ column_name: string }[]>(
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

  it('round-trips an outbox row', async () => {
    const eventId = randomUUID();
    const em = orm.em.fork();
    const event = em.create(OutboxEvent, {
      eventId,
      topic: 'auth-events',
      messageKey: 'user-1',
      eventType: 'user_registered',
      payload: {
        event_id: eventId,
        event_type: 'user_registered',
        data: { user_id: 'user-1', email: 'u@example.com' },
      },
      headers: { event_id: eventId, event_type: 'user_registered', request_id: 'r-1' },
    });
    await em.flush();
    expect(event.id).toBeDefined();

    const found = await orm.em.fork().findOneOrFail(OutboxEvent, { eventId });
    expect(found.topic).toBe('auth-events');
    expect(found.messageKey).toBe('user-1');
    expect(found.payload).toEqual({
      event_id: eventId,
      event_type: 'user_registered',
      data: { user_id: 'user-1', email: 'u@example.com' },
    });
    expect(found.headers.request_id).toBe('r-1');
    expect(found.publishedAt).toBeNull();
    expect(found.attempts).toBe(0);
    expect(found.createdAt).toBeInstanceOf(Date);

    // event_id is unique: a retried write cannot create a second row for the same event.
    const dup = orm.em.fork();
    dup.create(OutboxEvent, { ...found, id: undefined, publishedAt: null });
    await expect(dup.flush()).rejects.toThrow(/unique|duplicate/i);
  });
});
