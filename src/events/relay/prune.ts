import type { Client as PgClient } from 'pg';

const PRUNE_BATCH = 5_000;

/**
 * Deletes published rows older than `cutoff`, oldest first and in bounded batches, so the table
 * does not grow forever. Only rows below the oldest row still to publish are candidates, which
 * keeps the scan on the primary key; a key held back after a rejection keeps later rows until it
 * is published. Parked rows neither hold pruning back nor are deleted (they wait for an
 * operator). Stops at the first batch with rows younger than the cutoff. Returns the count.
 */
export async function pruneOutbox(client: PgClient, cutoff: Date, stopping: () => boolean): Promise<number> {
  let total = 0;
  for (;;) {
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
      [cutoff, PRUNE_BATCH],
    );
    total += res.rowCount ?? 0;
    if ((res.rowCount ?? 0) < PRUNE_BATCH || stopping()) break;
  }
  return total;
}
