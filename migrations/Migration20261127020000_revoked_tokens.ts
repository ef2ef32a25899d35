import { Migration } from '@mikro-orm/migrations';

export class Migration20261127020000_revoked_tokens extends Migration {
  override up(): void {
    // The logout denylist: sha256 of access tokens revoked before their exp. Rows past
    // expires_at are dead weight (the token is refused anyway) and are purged.
    this.addSql(`
      create table revoked_tokens (
        token_hash  text         primary key,
        user_id     text         null,
        expires_at  timestamptz  not null,
        revoked_at  timestamptz  not null default now()
      );`);
    this.addSql('create index revoked_tokens_expires_idx on revoked_tokens (expires_at);');
  }

  override down(): void {
    this.addSql('drop table if exists revoked_tokens;');
  }
}
