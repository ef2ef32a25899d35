import { EntitySchema, OptionalProps } from '@mikro-orm/core';

/**
 * A domain event waiting to be (or already) published to Kafka — the transactional outbox of
 * events.md. Rows are written in the same transaction as the work that causes them; the relay
 * publishes them in `id` order per `message_key` and stamps `published_at`.
 */
export class OutboxEvent {
  [OptionalProps]?: 'createdAt' | 'publishedAt' | 'attempts' | 'lastError';
  id!: string; // bigserial; string because it may exceed Number.MAX_SAFE_INTEGER
  eventId!: string;
  topic!: string;
  messageKey!: string;
  eventType!: string;
  payload!: Record<string, unknown>;
  headers!: Record<string, string>;
  createdAt: Date = new Date();
  publishedAt: Date | null = null;
  attempts = 0;
  lastError: string | null = null;
}

export const OutboxEventSchema = new EntitySchema<OutboxEvent>({
  class: OutboxEvent,
  tableName: 'outbox_events',
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    eventId: { type: 'uuid', unique: true },
    topic: { type: 'text' },
    messageKey: { type: 'text' },
    eventType: { type: 'text' },
    // `json`, not `jsonb`: the relay publishes the stored text unchanged (migration 040000).
    payload: { type: 'json', columnType: 'json' },
    headers: { type: 'json', columnType: 'json' },
    createdAt: { type: 'Date', columnType: 'timestamptz', defaultRaw: 'now()' },
    publishedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    attempts: { type: 'integer', default: 0 },
    lastError: { type: 'text', nullable: true },
  },
});
