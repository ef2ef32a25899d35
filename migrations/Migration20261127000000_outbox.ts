import { Migration } from '@mikro-orm/migrations';

export class Migration20261127000000_outbox extends Migration {
  override up(): void {
    this.addSql(`
      create table outbox_events (
        id           bigserial    primary key,
        event_id     uuid         not null unique,
        topic        text         not null,
        message_key  text         not null,
        event_type   text         not null,
        payload      jsonb        not null,
        headers      jsonb        not null default '{}'::jsonb,
        created_at   timestamptz  not null default now(),
        published_at timestamptz  null,
        attempts     integer      not null default 0,
        last_error   text         null
      );`);
    // The relay only ever scans unpublished rows in id order; keep that scan index-only and small.
    this.addSql(`create index outbox_events_unpublished_idx on outbox_events (id) where published_at is null;`);
    this.addSql(
      `create index outbox_events_key_unpublished_idx on outbox_events (message_key, id) where published_at is null;`,
    );
  }

  override down(): void {
    this.addSql('drop table if exists outbox_events;');
  }
}
