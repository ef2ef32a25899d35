import type { Client as PgClient } from 'pg';
import { OUTBOX_CHANNEL } from './outbox-store';

/*
 * The relay's statements, all on its own session (`pg.Client`): the advisory lock that makes one
 * relay the publisher is held by that session, so its reads and marks must run on it too.
 */

export interface OutboxRow {
  id: string;
  event_id: string;
  topic: string;
  message_key: string;
  /** The envelope exactly as written (a `json` column, selected as text: nothing to parse or re-encode). */
  value: string;
  headers: Record<string, string> | null;
  attempts: number;
}

/** Unpublished, unparked rows in id order, skipping the keys held back after a rejection. */
export async function selectUnpublished(client: PgClient, limit: number, heldKeys: string[]): Promise<OutboxRow[]> {
  const { rows } = await client.query<OutboxRow>(
    `select id, event_id, topic, message_key, payload::text as value, headers, attempts
       from outbox_events
      where published_at is null and parked_at is null and not (message_key = any($2::text[]))
      order by id
      limit $1`,
    [limit, heldKeys],
  );
  return rows;
}

/** Marks the rows published and ends the send's lease in the same statement. */
export async function markOutboxPublished(client: PgClient, ids: string[], lockName: string): Promise<void> {
  await client.query(
    `with lease as (update outbox_relay_lease set busy_until = clock_timestamp() where name = $2)
     update outbox_events set published_at = now() where id = any($1::bigint[])`,
    [ids, lockName],
  );
}

export async function recordSendFailure(client: PgClient, ids: string[], error: string): Promise<void> {
  await client.query('update outbox_events set attempts = attempts + 1, last_error = $2 where id = any($1::bigint[])', [
    ids,
    error,
  ]);
}

/** Keeps the row but stops sending it (an operator looks at it). */
export async function parkOutboxRow(client: PgClient, id: string, error: string): Promise<void> {
  await client.query(
    'update outbox_events set attempts = attempts + 1, last_error = $2, parked_at = now() where id = $1',
    [id, error],
  );
}

/**
 * Deletes up to `limit` published rows created before `cutoff` among the oldest rows below the
 * oldest row still to publish (parked rows neither hold this back nor are deleted); returns how many.
 */
export async function deletePublishedBefore(client: PgClient, cutoff: Date, limit: number): Promise<number> {
  const res = await client.query(
    // The oldest $2 rows by id (an index range, however large the table), then the age check:
    // ids follow commit time closely, so once a batch holds young rows the rest are younger.
    `delete from outbox_events
      where created_at < $1
        and published_at is not null
        and id in (
          select id from outbox_events
           where id < coalesce((select min(id) from outbox_events where published_at is null and parked_at is null),
                               9223372036854775807)
           order by id
           limit $2)`,
    [cutoff, limit],
  );
  return res.rowCount ?? 0;
}

/** Size, age of the oldest and parked count of what is left to publish, for the relay's gauges. */
export async function outboxBacklog(client: PgClient): Promise<{ size: number; lag: number | null; parked: number }> {
  const res = await client.query<{ size: number; lag: number | null; parked: number }>(
    `select (select count(*) from outbox_events where published_at is null and parked_at is null)::int as size,
            (select extract(epoch from now() - created_at) from outbox_events
              where published_at is null and parked_at is null order by id limit 1)::float8 as lag,
            (select count(*) from outbox_events where parked_at is not null and published_at is null)::int as parked`,
  );
  return res.rows[0] ?? { size: 0, lag: null, parked: 0 };
}

/** Takes the publisher's session-level advisory lock if free; true when this session holds it. */
export async function tryPublisherLock(client: PgClient, lockName: string): Promise<boolean> {
  const res = await client.query<{ ok: boolean }>('select pg_try_advisory_lock(hashtextextended($1, 0)) as ok', [
    lockName,
  ]);
  return res.rows[0]?.ok === true;
}

/** Releases every advisory lock of the session (the publisher hands over at once). */
export async function releasePublisherLock(client: PgClient): Promise<void> {
  await client.query('select pg_advisory_unlock_all()');
}

/** Commits wake this session (NOTIFY on `OUTBOX_CHANNEL`). */
export async function listenForCommits(client: PgClient): Promise<void> {
  await client.query(`listen ${OUTBOX_CHANNEL}`);
}

/** What is left of the last publisher's send lease, in ms (negative when over, null when none). */
export async function leaseRemainingMs(client: PgClient, lockName: string): Promise<number | null> {
  const lease = await client.query<{ ms: number | null }>(
    `select (extract(epoch from busy_until - clock_timestamp()) * 1000)::float8 as ms
       from outbox_relay_lease where name = $1`,
    [lockName],
  );
  return lease.rows[0]?.ms ?? null;
}

/** Records a lease covering one send; succeeding on the lock session proves the lock is held. */
export async function takeSendLease(client: PgClient, lockName: string, leaseMs: number): Promise<void> {
  await client.query(
    `insert into outbox_relay_lease (name, busy_until) values ($1, clock_timestamp() + $2 * interval '1 millisecond')
     on conflict (name) do update set busy_until = excluded.busy_until`,
    [lockName, leaseMs],
  );
}
