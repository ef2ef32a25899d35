import type { Config } from '../config';
import { EVENT_CATALOG, EVENT_TYPES, type EventType } from './catalog';
import { EventHeadersSchema, eventEnvelopeSchema } from './schemas';

type Json = Record<string, unknown>;

const json = (schema: unknown): Json => JSON.parse(JSON.stringify(schema)) as Json;

const CHANNELS = {
  KAFKA_AUTH_EVENTS_TOPIC: 'authEvents',
  KAFKA_USER_EVENTS_TOPIC: 'userEvents',
  KAFKA_ORGANIZATION_EVENTS_TOPIC: 'organizationEvents',
} as const;

/**
 * Adds the domain-event topics (events.md) to an AsyncAPI 3 document: one channel per topic, one
 * message per event type with the envelope and `data` schema that `buildEvent` validates with.
 */
export function addDomainEvents(
  doc: Json,
  config: Pick<Config, keyof typeof CHANNELS | 'KAFKA_BOOTSTRAP_SERVERS'>,
): Json {
  const servers = (doc.servers ??= {}) as Json;
  const channels = (doc.channels ??= {}) as Json;
  const operations = (doc.operations ??= {}) as Json;
  const components = (doc.components ??= {}) as Json;
  const messages = (components.messages ??= {}) as Json;

  servers.events = {
    host: config.KAFKA_BOOTSTRAP_SERVERS.join(','),
    protocol: 'kafka',
    description: 'KAFKA_BOOTSTRAP_SERVERS (domain events)',
  };

  for (const [setting, channelId] of Object.entries(CHANNELS) as [keyof typeof CHANNELS, string][]) {
    const types = EVENT_TYPES.filter((t) => EVENT_CATALOG[t].topic === setting);
    channels[channelId] = {
      address: config[setting],
      title: setting,
      description: `Domain events (${types.join(', ')}); key = ${EVENT_CATALOG[types[0]!].key}, so events of one subject stay in order. Published from the transactional outbox, at least once; duplicates carry the same event_id.`,
      servers: [{ $ref: '#/servers/events' }],
      messages: Object.fromEntries(types.map((t) => [t, { $ref: `#/components/messages/${t}` }])),
    };
    operations[`publish${channelId[0]!.toUpperCase()}${channelId.slice(1)}`] = {
      action: 'send',
      channel: { $ref: `#/channels/${channelId}` },
      summary: `The gateway publishes ${setting} events`,
      messages: types.map((t) => ({ $ref: `#/channels/${channelId}/messages/${t}` })),
    };
    for (const t of types) messages[t] = eventMessage(t);
  }
  return doc;
}

function eventMessage(eventType: EventType): Json {
  return {
    name: eventType,
    title: eventType,
    contentType: 'application/json',
    headers: json(EventHeadersSchema),
    payload: json(eventEnvelopeSchema(eventType)),
    bindings: {
      kafka: { key: { type: 'string', description: EVENT_CATALOG[eventType].key }, bindingVersion: '0.5.0' },
    },
  };
}
