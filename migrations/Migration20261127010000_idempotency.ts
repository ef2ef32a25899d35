import { Migration } from '@mikro-orm/migrations';

export class Migration20261127010000_idempotency extends Migration {
  override up(): void {
    // One row per (scope, key): scope = method + route + caller, so two callers never share a key.
    // request_hash is an HMAC of the request, and the stored answer is encrypted: sign-in and
    // invite answers carry tokens, and bodies carry passwords.
    this.addSql(`
      create table idempotency_keys (
        scope         text         not null,
        key           text         not null,
        request_hash  text         not null,
        state         text         not null check (state in ('in_progress', 'completed')),
        owner         uuid         not null,
        seal_key_id   text         not null,
        status        integer      null,
        response      bytea        null,
        created_at    timestamptz  not null default now(),
        locked_until  timestamptz  not null,
        completed_at  timestamptz  null,
        expires_at    timestamptz  not null,
        primary key (scope, key)
      );`);
    this.addSql('create index idempotency_keys_expires_idx on idempotency_keys (expires_at);');
  }

  override down(): void {
    this.addSql('drop table if exists idempotency_keys;');
  }
}
