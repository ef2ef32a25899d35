import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { EventData, EventType } from './catalog';
import '../schema-formats';

/**
 * JSON schemas of every event's `data` (events.md). `buildEvent` validates with them and
 * /asyncapi.json publishes them, so the document cannot drift from what is sent.
 */
const Id = Type.String({ minLength: 1 });

export const EVENT_DATA_SCHEMAS = {
  user_registered: Type.Object({ user_id: Id, email: Type.String() }, { additionalProperties: false }),
  user_logged_in: Type.Object({ user_id: Id }, { additionalProperties: false }),
  user_logged_out: Type.Object({ user_id: Id }, { additionalProperties: false }),
  token_refreshed: Type.Object({ user_id: Id }, { additionalProperties: false }),
  token_validated: Type.Object(
    { user_id: Type.Union([Id, Type.Null()]), valid: Type.Boolean(), reason: Type.Optional(Type.String()) },
    { additionalProperties: false },
  ),
  user_info_requested: Type.Object({ user_id: Id }, { additionalProperties: false }),
  organization_switched: Type.Object({ user_id: Id, org_id: Id }, { additionalProperties: false }),
  user_detail_requested: Type.Object({ user_id: Id }, { additionalProperties: false }),
  user_orgs_requested: Type.Object({ user_id: Id }, { additionalProperties: false }),
  organization_created: Type.Object({ org_id: Id, name: Type.String(), owner_id: Id }, { additionalProperties: false }),
  user_invited: Type.Object(
    {
      org_id: Id,
      invite_id: Id,
      email: Type.String(),
      role: Type.String(),
      invited_by: Id,
      invite_token: Type.String({
        description: 'The one secret an event carries: the notification service mails the link',
      }),
      expires_at: Type.String({ format: 'date-time' }),
    },
    { additionalProperties: false },
  ),
  invite_accepted: Type.Object(
    { org_id: Id, invite_id: Id, user_id: Id, role: Type.String() },
    { additionalProperties: false },
  ),
  members_listed: Type.Object({ org_id: Id }, { additionalProperties: false }),
  member_removed: Type.Object({ org_id: Id, user_id: Id, removed_by: Id }, { additionalProperties: false }),
  member_role_updated: Type.Object(
    { org_id: Id, user_id: Id, role: Type.String(), updated_by: Id },
    { additionalProperties: false },
  ),
} satisfies Record<EventType, TSchema>;

// The hand-written EventData interface and these schemas must describe the same shapes.
type SchemaData = { [T in EventType]: Static<(typeof EVENT_DATA_SCHEMAS)[T]> };
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const dataMatchesSchemas: Same<SchemaData, EventData> = true;
void dataMatchesSchemas;

export const EventActorSchema = Type.Object({
  user_id: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
});

/** The envelope of one event type (events.md, Envelope). */
export function eventEnvelopeSchema(eventType: EventType): TSchema {
  return Type.Object({
    event_id: Type.String({ format: 'uuid' }),
    event_type: Type.Literal(eventType),
    version: Type.Literal(1),
    occurred_at: Type.String({ format: 'date-time' }),
    source: Type.Literal('api-gateway'),
    request_id: Type.String(),
    actor: EventActorSchema,
    data: EVENT_DATA_SCHEMAS[eventType],
  });
}

export const EventHeadersSchema = Type.Object({
  event_id: Type.String({ format: 'uuid' }),
  event_type: Type.String(),
  request_id: Type.String(),
});
