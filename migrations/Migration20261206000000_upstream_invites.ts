import { Migration } from '@mikro-orm/migrations';

export class Migration20261206000000_upstream_invites extends Migration {
  override up(): void {
    // The invite token the auth service answered to an org-invite run, kept (sealed with
    // TEMPORAL_SECRETS_KEYS) until the run has stored its invite: a retried create reuses it
    // instead of creating a second upstream invite. Deleted with the org_invites insert.
    this.addSql(`
      create table upstream_invites (
        run_key       text         primary key,
        invite_token  text         not null,
        created_at    timestamptz  not null default now()
      );`);
  }

  override down(): void {
    this.addSql('drop table if exists upstream_invites;');
  }
}
