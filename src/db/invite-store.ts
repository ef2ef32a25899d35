import type { Sql } from './database';

/*
 * org_invites (one row per invite, keyed by the hashes of its e-mail and token, never the values)
 * and upstream_invites (the auth service's answer kept under a workflow run's key until the
 * invite row is written, so a retried activity does not invite twice).
 */

export interface InviteRow {
  invite_id: string;
  workflow_id: string;
  status: 'pending' | 'accepted' | 'expired' | 'revoked';
  expires_at: Date | string;
  email_hash: string;
}

export interface NewInvite {
  inviteId: string;
  orgId: string;
  emailHash: string;
  role: string;
  tokenHash: string;
  workflowId: string;
  invitedBy: string;
  expiresAt: string;
}

const INVITE_COLUMNS = 'invite_id, workflow_id, status, expires_at, email_hash';

export async function findInviteByTokenHash(db: Sql, tokenHash: string): Promise<InviteRow | undefined> {
  const rows = await db.execute<InviteRow[]>(`select ${INVITE_COLUMNS} from org_invites where token_hash = $1`, [
    tokenHash,
  ]);
  return rows[0];
}

export async function findPendingInvite(db: Sql, inviteId: string, orgId: string): Promise<InviteRow | undefined> {
  const rows = await db.execute<InviteRow[]>(
    `select ${INVITE_COLUMNS} from org_invites where invite_id = $1 and org_id = $2 and status = 'pending'`,
    [inviteId, orgId],
  );
  return rows[0];
}

/** Writes the invite as pending; an invite id already there is left as it is (a retried write). */
export async function insertInvite(db: Sql, invite: NewInvite): Promise<void> {
  await db.execute(
    `insert into org_invites (invite_id, org_id, email_hash, role, token_hash, workflow_id, status, invited_by, expires_at)
     values ($1, $2, $3, $4, $5, $6, 'pending', $7, $8) on conflict (invite_id) do nothing`,
    [
      invite.inviteId,
      invite.orgId,
      invite.emailHash,
      invite.role,
      invite.tokenHash,
      invite.workflowId,
      invite.invitedBy,
      invite.expiresAt,
    ],
  );
}

export async function markInviteAcceptedBy(db: Sql, inviteId: string, userId: string): Promise<void> {
  await db.execute(
    `update org_invites set status = 'accepted', accepted_by = $1, updated_at = now() where invite_id = $2`,
    [userId, inviteId],
  );
}

/** Ends a pending invite with `status`; an invite no longer pending keeps its status. */
export async function closePendingInvite(db: Sql, inviteId: string, status: InviteRow['status']): Promise<void> {
  await db.execute(
    `update org_invites set status = $1, updated_at = now() where invite_id = $2 and status = 'pending'`,
    [status, inviteId],
  );
}

/** The sealed invite token kept for a workflow run, if an earlier attempt kept one. */
export async function keptUpstreamInvite(db: Sql, runKey: string): Promise<string | undefined> {
  const rows = await db.execute<{ invite_token: string }[]>(
    'select invite_token from upstream_invites where run_key = $1',
    [runKey],
  );
  return rows[0]?.invite_token;
}

/** Keeps the sealed invite token under `runKey`; returns the one kept (an overlapping attempt's may win). */
export async function keepUpstreamInvite(db: Sql, runKey: string, sealedToken: string): Promise<string | undefined> {
  const rows = await db.execute<{ invite_token: string }[]>(
    `insert into upstream_invites (run_key, invite_token) values ($1, $2)
     on conflict (run_key) do update set run_key = excluded.run_key returning invite_token`,
    [runKey, sealedToken],
  );
  return rows[0]?.invite_token;
}

/** Forgets the kept answer once the invite row holds its hash. */
export async function forgetUpstreamInvite(db: Sql, runKey: string): Promise<void> {
  await db.execute('delete from upstream_invites where run_key = $1', [runKey]);
}
