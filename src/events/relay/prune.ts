import type { Client as PgClient } from 'pg';
import { deletePublishedBefore } from '../../db/outbox-relay-store';

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
    const deleted = await deletePublishedBefore(client, cutoff, PRUNE_BATCH);
    total += deleted;
    if (deleted < PRUNE_BATCH || stopping()) break;
  }
  return total;
}
