import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { EventData, EventType } from '../events/catalog';

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
 * not, keeping the proxy path free of database waits. Neither fails the request.
 */
export async function emitEvent<T extends EventType>(
  app: FastifyInstance,
  request: FastifyRequest,
  eventType: T,
  data: EventData[T],
): Promise<void> {
  const written = app.deps.outboxWriter.write({
    eventType,
    data,
    requestId: request.id,
    actor: { user_id: request.user?.sub ?? null, ip: request.ip ?? null },
  });
  if (!READ_EVENTS.has(eventType)) await written;
}
