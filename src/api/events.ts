import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { EventData, EventType } from '../events/catalog';
import { OutboxFullError } from '../events/outbox-writer';
import { HttpError } from '../errors';

/** Events that only report a read: the route answers without waiting for their outbox write. */
const READ_EVENTS = new Set<EventType>([
  'user_info_requested',
  'members_listed',
  'token_validated',
  'user_detail_requested',
  'user_orgs_requested',
]);

/**
 * Records a domain event of a direct route in the outbox (events.md). State-changing events are
 * awaited (group commit, a few ms), so a success answer implies a durable event; read events are
 * not, keeping the proxy path free of database waits. Neither fails the request while PostgreSQL
 * is away, until the writer's buffer is full: then the request answers 503 rather than lose its event.
 */
export async function emitEvent<T extends EventType>(
  app: FastifyInstance,
  request: FastifyRequest,
  eventType: T,
  data: EventData[T],
): Promise<void> {
  let written: Promise<boolean>;
  const read = READ_EVENTS.has(eventType);
  try {
    written = app.deps.outboxWriter.write(
      {
        eventType,
        data,
        requestId: request.id,
        actor: { user_id: request.user?.sub ?? null, ip: request.ip ?? null },
      },
      { read },
    );
  } catch (err) {
    if (!(err instanceof OutboxFullError)) throw err;
    request.log.error(
      { pending: err.pending, event_type: eventType },
      'outbox write buffer full; refusing the request',
    );
    throw new HttpError('upstream_unavailable', 'The gateway cannot record events right now; retry later', {
      headers: { 'retry-after': '5' },
    });
  }
  if (!read) await written;
}
