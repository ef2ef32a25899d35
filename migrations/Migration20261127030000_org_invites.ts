import { Migration } from '@mikro-orm/migrations';

export class Migration20261127030000_org_invites extends Migration {
  override up(): void {
    // The gateway's view of durable invites: the org-invite workflow is the source of truth and
    // mirrors its state here, so POST /v1/invite/accept can find an invite by its token (hashed)
    // and answer 404/409/410 even after the workflow has ended. No e-mail or token in plaintext.
    this.addSql(`
      create table org_invites (
        invite_id    uuid         primary key,
        org_id       uuid         not null,
        email_hash   text         not null,
        role         text         not null check (role in ('admin', 'member')),
        token_hash   text         not null unique,
        workflow_id  text         not null,
        status       text         not null check (status in ('pending', 'accepted', 'expired', 'revoked')),
        invited_by   text         not null,
        accepted_by  text         null,
        expires_at   timestamptz  not null,
        created_at   timestamptz  not null default now(),
        updated_at   timestamptz  not null default now()
      );`);
    this.addSql('create index org_invites_org_idx on org_invites (org_id, status);');
  }

  override down(): void {
    this.addSql('drop table if exists org_invites;');
  }
}
