import type { Sql } from './database';

/** NOTIFY channel that wakes the relays when an event is committed. */
export const OUTBOX_CHANNEL = 'outbox_events';

/** One `outbox_events` row as the writers give it; `payload` and `headers` are JSON text, stored as written. */
export interface OutboxRowInput {
  eventId: string;
  topic: string;
  messageKey: string;
  eventType: string;
  payload: string;
  headers: string;
}

/**
 * Inserts one event through `db` (inside the caller's transaction) and notifies the relays, which
 * PostgreSQL delivers at commit. False when a row with this event id was already there.
 */
export async function insertOutboxEvent(db: Sql, row: OutboxRowInput): Promise<boolean> {
  const rows = await db.execute<{ id: string }[]>(
    `insert into outbox_events (event_id, topic, message_key, event_type, payload, headers)
     values ($1, $2, $3, $4, $5::json, $6::json)
     on conflict (event_id) do nothing
     returning id`,
    [row.eventId, row.topic, row.messageKey, row.eventType, row.payload, row.headers],
  );
  const inserted = rows.length > 0;
  // Delivered at commit (never for a rolled-back transaction); relays poll anyway if it is lost.
  if (inserted) await db.execute(`select pg_notify('${OUTBOX_CHANNEL}', '')`);
  return inserted;
}

/**
 * Group commit: inserts `rowsJson`, a JSON array of rows with the snake_case columns of
 * `outbox_events`, in one statement, and notifies the relays when any row was new.
 */
export async function insertOutboxRows(db: Sql, rowsJson: string): Promise<void> {
  // One parameter (a JSON array of rows), so a batch is one statement of fixed text.
  await db.execute(
    `with ins as (
       insert into outbox_events (event_id, topic, message_key, event_type, payload, headers)
       select r.event_id, r.topic, r.message_key, r.event_type, r.payload, r.headers
         from json_to_recordset($1::json)
           as r(event_id uuid, topic text, message_key text, event_type text, payload json, headers json)
       on conflict (event_id) do nothing returning 1)
     select pg_notify('${OUTBOX_CHANNEL}', '') from (select 1) x where exists (select 1 from ins)`,
    [rowsJson],
  );
}
