import type { Client as PgClient } from 'pg';
import type { Sql } from './database';

/** NOTIFY channel on which each revocation reaches every replica, as `hash:expMs`. */
export const REVOCATION_CHANNEL = 'gateway_token_revoked';

/** Records a revocation and notifies every replica; one statement, so both commit together. */
export async function insertRevokedToken(db: Sql, hash: string, userId: string | null, expiresAt: Date): Promise<void> {
  await db.execute(
    `with ins as (insert into revoked_tokens (token_hash, user_id, expires_at) values ($1, $2, $3) on conflict (token_hash) do nothing)
     select pg_notify('${REVOCATION_CHANNEL}', $4)`,
    [hash, userId, expiresAt, `${hash}:${expiresAt.getTime()}`],
  );
}

export async function isRevokedInDatabase(db: Sql, hash: string): Promise<boolean> {
  const rows = await db.execute<{ one: number }[]>(
    'select 1 as one from revoked_tokens where token_hash = $1 and expires_at > now()',
    [hash],
  );
  return rows.length > 0;
}

/** Expired rows are useless; any replica may delete them. */
export async function deleteExpiredRevocations(db: Sql): Promise<void> {
  await db.execute("delete from revoked_tokens where expires_at < now() - interval '1 hour'", []);
}

/** Subscribes the listener session to revocations (before loading them, so none falls between). */
export async function listenForRevocations(client: PgClient): Promise<void> {
  await client.query(`LISTEN ${REVOCATION_CHANNEL}`);
}

/** Every revocation still in force, with its expiry in ms. */
export async function loadRevocations(client: PgClient): Promise<{ hash: string; expMs: number }[]> {
  const { rows } = await client.query<{ token_hash: string; exp: string }>(
    'select token_hash, (extract(epoch from expires_at) * 1000)::bigint as exp from revoked_tokens where expires_at > now()',
  );
  return rows.map((r) => ({ hash: r.token_hash, expMs: Number(r.exp) }));
}
