import type { Database, Sql } from '../db/database';
import { insertOutboxEvent } from '../db/outbox-store';
import { sha256Bytes } from '../lib/hash';
import { isoTime } from '../lib/iso-time';
import { timeOrderedUuid, versionedUuid } from '../lib/uuid';
import {
  EVENT_CATALOG,
  isEventType,
  keyOf,
  topicOf,
  type EventActor,
  type EventData,
  type EventEnvelope,
  type EventHeaders,
  type EventTopics,
  type EventType,
} from './catalog';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { EVENT_DATA_SCHEMAS } from './schemas';

/**
 * An event that must never be written: unknown type, missing key, or a secret in its data.
 * Not worth retrying (a Temporal activity should list it in `nonRetryableErrorTypes`).
 */
export class InvalidEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEventError';
  }
}

export interface RecordEventInput<T extends EventType = EventType> {
  eventType: T;
  data: EventData[T];
  requestId: string;
  actor: EventActor;
  /** Give one (see `deterministicEventId`) when the write may be retried; otherwise a new UUIDv7 (`newEventId`). */
  eventId?: string;
  occurredAt?: Date;
}

export interface RecordedEvent {
  eventId: string;
  topic: string;
  key: string;
  /** False when an event with this id was already in the outbox (a retried write): nothing changed. */
  inserted: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SECRET_FIELD = /password|access_token|refresh_token|id_token|^token$|^jwt$|secret/i;
const EVENT_ID_NAMESPACE = 'durable-api-gateway/events/v1';

/**
 * The event id of step `step` of workflow `workflowId`: the same inputs always give the same id, so
 * a retried activity writes the same event (and the second write is a no-op). A name-based UUID
 * from SHA-256, stamped version 8 as RFC 9562 prescribes for SHA-256 names (v5 is SHA-1 only).
 */
export function deterministicEventId(workflowId: string, step: string | number): string {
  const hash = sha256Bytes(`${EVENT_ID_NAMESPACE}\0${workflowId}\0${String(step)}`);
  return versionedUuid(hash.subarray(0, 16), 8);
}

/**
 * A random, time-ordered event id (UUID version 7, RFC 9562): 48 bits of Unix milliseconds, then
 * 74 random bits. Ids of new events land at the right edge of the outbox's unique index instead
 * of on a random page, which keeps that index's inserts cheap and its pages in cache under load.
 */
export function newEventId(now = Date.now()): string {
  return timeOrderedUuid(now);
}

/**
 * Each event type's `data` schema compiled once, on its first event: a compiled check is a few
 * property tests, where `Value.Check` walks the schema on every call (a read emits an event).
 */
const dataChecks = new Map<EventType, TypeCheck<(typeof EVENT_DATA_SCHEMAS)[EventType]>>();
function dataCheck(eventType: EventType): TypeCheck<(typeof EVENT_DATA_SCHEMAS)[EventType]> {
  let check = dataChecks.get(eventType);
  if (!check) dataChecks.set(eventType, (check = TypeCompiler.Compile(EVENT_DATA_SCHEMAS[eventType])));
  return check;
}

/** Rejects secrets anywhere in `data`; the invite token is allowed in user_invited only. */
function assertNoSecrets(eventType: EventType, value: unknown, path: string): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => assertNoSecrets(eventType, item, `${path}[${i}]`));
    return;
  }
  if (value === null || typeof value !== 'object') return;
  // Field paths are built only to name a refused field or to descend: this runs on every access event.
  for (const name of Object.keys(value)) {
    const inviteToken = name === 'invite_token';
    if (inviteToken && !(eventType === 'user_invited' && path === 'data')) {
      throw new InvalidEventError(`${eventType}: ${path}.${name} may not carry an invite token`);
    }
    if (!inviteToken && SECRET_FIELD.test(name)) {
      throw new InvalidEventError(`${eventType}: ${path}.${name} looks like a secret and may not be published`);
    }
    const child = (value as Record<string, unknown>)[name];
    if (child !== null && typeof child === 'object') assertNoSecrets(eventType, child, `${path}.${name}`);
  }
}

/**
 * Validates one event (type, data against its schema and free of secrets, request id, a given
 * event id) and gives its id (new, from `at`, unless given), topic and subject key (null only for a
 * token_validated of an invalid token).
 */
export function checkedEvent<T extends EventType>(
  config: EventTopics,
  input: Pick<RecordEventInput<T>, 'eventType' | 'data' | 'requestId' | 'eventId'>,
  at: number,
): { eventId: string; topic: string; subject: string | null } {
  const { eventType, data } = input;
  if (!isEventType(eventType)) throw new InvalidEventError(`unknown event type "${String(eventType)}"`);
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new InvalidEventError(`${eventType}: data must be an object`);
  }
  assertNoSecrets(eventType, data, 'data');
  const check = dataCheck(eventType);
  if (!check.Check(data)) {
    const first = check.Errors(data).First();
    throw new InvalidEventError(
      `${eventType}: data${first ? `${first.path.replace(/\//g, '.')} ${first.message}` : ''} does not match events.md`,
    );
  }
  if (typeof input.requestId !== 'string' || input.requestId === '') {
    throw new InvalidEventError(`${eventType}: request id is required`);
  }
  // An id made here is a UUID in lower case already; one given is checked and lower-cased.
  const given = input.eventId;
  if (given !== undefined && !UUID.test(given)) {
    throw new InvalidEventError(`${eventType}: event id "${given}" is not a UUID`);
  }
  const subject = keyOf(eventType, data);
  // Only token_validated may lack a subject (invalid token).
  if (subject === null && eventType !== 'token_validated') {
    throw new InvalidEventError(`${eventType}: data.${EVENT_CATALOG[eventType].key} is required`);
  }
  const eventId = given === undefined ? newEventId(at) : given.toLowerCase();
  return { eventId, topic: topicOf(config, eventType), subject };
}

/** The envelope, headers, topic and key of one event, validated. */
export function buildEvent<T extends EventType>(
  config: EventTopics,
  input: RecordEventInput<T>,
): { envelope: EventEnvelope<T>; headers: EventHeaders; topic: string; key: string } {
  const at = input.occurredAt?.getTime() ?? Date.now();
  const { eventId, topic, subject } = checkedEvent(config, input, at);
  const { eventType } = input;
  const envelope: EventEnvelope<T> = {
    event_id: eventId,
    event_type: eventType,
    version: 1,
    occurred_at: isoTime(at),
    source: 'api-gateway',
    request_id: input.requestId,
    actor: { user_id: input.actor?.user_id ?? null, ip: input.actor?.ip ?? null },
    data: input.data,
  };
  const headers: EventHeaders = { event_id: eventId, event_type: eventType, request_id: input.requestId };
  // An event without a subject is keyed by its own id in the outbox, which the relay publishes as no key.
  return { envelope, headers, topic, key: subject ?? eventId };
}

/**
 * Writes one event to the outbox through `tx`, so it commits or rolls back with the caller's
 * transaction (call it inside `db.transaction(...)`). Writing an event id that is already there
 * is a no-op, which makes retried activities safe. The relay publishes it after commit.
 */
export async function recordEvent<T extends EventType>(
  tx: Sql,
  config: EventTopics,
  input: RecordEventInput<T>,
): Promise<RecordedEvent> {
  const { envelope, headers, topic, key } = buildEvent(config, input);
  const inserted = await insertOutboxEvent(tx, {
    eventId: envelope.event_id,
    topic,
    messageKey: key,
    eventType: envelope.event_type,
    payload: JSON.stringify(envelope),
    headers: JSON.stringify(headers),
  });
  return { eventId: envelope.event_id, topic, key, inserted };
}

/** For routes whose only database work is the event: records it in its own short transaction. */
export async function recordEventNow<T extends EventType>(
  db: Database,
  config: EventTopics,
  input: RecordEventInput<T>,
): Promise<RecordedEvent> {
  return db.transaction((tx) => recordEvent(tx, config, input));
}
