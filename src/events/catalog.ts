import type { Config } from '../config';

/**
 * The domain events of `events.md`: every event type, the topic it goes to, the field that keys
 * it (so one user's or one organisation's events stay in order) and the shape of its `data`.
 */

/** `data` of each event type, exactly as published. */
export interface EventData {
  user_registered: { user_id: string; email: string };
  user_logged_in: { user_id: string };
  user_logged_out: { user_id: string };
  token_refreshed: { user_id: string };
  /** `user_id` is null when the token was invalid; `reason` says why. */
  token_validated: { user_id: string | null; valid: boolean; reason?: string };
  user_info_requested: { user_id: string };
  organization_switched: { user_id: string; org_id: string };
  /** `user_id` is the subject that was looked up, not the caller. */
  user_detail_requested: { user_id: string };
  user_orgs_requested: { user_id: string };
  organization_created: { org_id: string; name: string; owner_id: string };
  /** The invite token is the one secret an event may carry: the notification service mails the link. */
  user_invited: {
    org_id: string;
    invite_id: string;
    email: string;
    role: string;
    invited_by: string;
    invite_token: string;
    expires_at: string;
  };
  invite_accepted: { org_id: string; invite_id: string; user_id: string; role: string };
  members_listed: { org_id: string };
  member_removed: { org_id: string; user_id: string; removed_by: string };
  member_role_updated: { org_id: string; user_id: string; role: string; updated_by: string };
}

export type EventType = keyof EventData;

type TopicSetting = 'KAFKA_AUTH_EVENTS_TOPIC' | 'KAFKA_USER_EVENTS_TOPIC' | 'KAFKA_ORGANIZATION_EVENTS_TOPIC';

interface CatalogEntry {
  topic: TopicSetting;
  /** The data field whose value is the Kafka message key. */
  key: 'user_id' | 'org_id';
}

const auth = { topic: 'KAFKA_AUTH_EVENTS_TOPIC', key: 'user_id' } as const;
const user = { topic: 'KAFKA_USER_EVENTS_TOPIC', key: 'user_id' } as const;
const organization = { topic: 'KAFKA_ORGANIZATION_EVENTS_TOPIC', key: 'org_id' } as const;

export const EVENT_CATALOG: { readonly [T in EventType]: CatalogEntry } = {
  user_registered: auth,
  user_logged_in: auth,
  user_logged_out: auth,
  token_refreshed: auth,
  token_validated: auth,
  user_info_requested: user,
  organization_switched: user,
  user_detail_requested: user,
  user_orgs_requested: user,
  organization_created: organization,
  user_invited: organization,
  invite_accepted: organization,
  members_listed: organization,
  member_removed: organization,
  member_role_updated: organization,
};

export const EVENT_TYPES = Object.keys(EVENT_CATALOG) as EventType[];

/** Events that record a read (events.md): sent straight to Kafka, never awaited, a counted loss accepted. */
export const ACCESS_EVENT_TYPES = [
  'token_validated',
  'user_info_requested',
  'user_detail_requested',
  'user_orgs_requested',
  'members_listed',
] as const satisfies readonly EventType[];

export type AccessEventType = (typeof ACCESS_EVENT_TYPES)[number];

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && Object.hasOwn(EVENT_CATALOG, value);
}

export type EventTopics = Pick<Config, TopicSetting>;

export function topicOf(config: EventTopics, eventType: EventType): string {
  return config[EVENT_CATALOG[eventType].topic];
}

/**
 * The Kafka key of an event: `user_id` for auth/user events, `org_id` for organisation events.
 * Null when the event has no subject (an invalid token was validated): such events have no order
 * to keep, and the caller keys them by their own event id.
 */
export function keyOf<T extends EventType>(eventType: T, data: EventData[T]): string | null {
  const value = (data as Record<string, unknown>)[EVENT_CATALOG[eventType].key];
  return typeof value === 'string' && value !== '' ? value : null;
}

/** The `actor` of the envelope: who caused the event, from where. */
export interface EventActor {
  user_id: string | null;
  ip: string | null;
}

/** The JSON value of every Kafka message (events.md, Envelope). */
export interface EventEnvelope<T extends EventType = EventType> {
  event_id: string;
  event_type: T;
  version: 1;
  occurred_at: string;
  source: 'api-gateway';
  request_id: string;
  actor: EventActor;
  data: EventData[T];
}

/** Kafka headers of every event message. */
export interface EventHeaders {
  event_id: string;
  event_type: EventType;
  request_id: string;
  [name: string]: string;
}
