import { Migration } from '@mikro-orm/migrations';

export class Migration20261127040000_outbox_json extends Migration {
  override up(): void {
    // The relay sends the payload text as written. `json` keeps that text (and the envelope's field
    // order from events.md) and costs less to insert than `jsonb`, which PostgreSQL parses into a
    // binary form the relay would only turn back into text.
    this.addSql(`
      alter table outbox_events
        alter column payload type json using payload::json,
        alter column headers drop default,
        alter column headers type json using headers::json,
        alter column headers set default '{}'::json;`);
    // Nothing looks rows up by key; every insert paid for this index.
    this.addSql('drop index if exists outbox_events_key_unpublished_idx;');
  }

  override down(): void {
    this.addSql(
      'create index if not exists outbox_events_key_unpublished_idx on outbox_events (message_key, id) where published_at is null;',
    );
    this.addSql(`
      alter table outbox_events
        alter column payload type jsonb using payload::jsonb,
        alter column headers drop default,
        alter column headers type jsonb using headers::jsonb,
        alter column headers set default '{}'::jsonb;`);
  }
}
