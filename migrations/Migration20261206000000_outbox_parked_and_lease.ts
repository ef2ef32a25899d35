import { Migration } from '@mikro-orm/migrations';

export class Migration20261206000000_outbox_parked_and_lease extends Migration {
  override up(): void {
    // A row Kafka keeps refusing is parked: kept for operators, no longer published, no longer
    // holding back pruning (docs/reliability.md).
    this.addSql('alter table outbox_events add column parked_at timestamptz null;');
    this.addSql('drop index if exists outbox_events_unpublished_idx;');
    this.addSql(
      'create index outbox_events_unpublished_idx on outbox_events (id) where published_at is null and parked_at is null;',
    );
    // Parked rows are few: the metrics count them through this small index, not a table scan.
    this.addSql(
      'create index outbox_events_parked_idx on outbox_events (id) where parked_at is not null and published_at is null;',
    );
    // Until when the current publisher may still have a Kafka send in flight: a new publisher
    // waits for it before its first send, so a zombie's last batch cannot land after it.
    this.addSql('create table outbox_relay_lease (name text primary key, busy_until timestamptz not null);');
  }

  override down(): void {
    this.addSql('drop table if exists outbox_relay_lease;');
    this.addSql('drop index if exists outbox_events_parked_idx;');
    this.addSql('drop index if exists outbox_events_unpublished_idx;');
    this.addSql('create index outbox_events_unpublished_idx on outbox_events (id) where published_at is null;');
    this.addSql('alter table outbox_events drop column if exists parked_at;');
  }
}
