import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isAccessEvent, type AccessEventType, type EventData, type EventType } from '../events/catalog';
import type { RecordEventInput } from '../events/outbox';
import { OutboxFullError } from '../events/outbox-writer';
import { HttpError } from '../errors';

/**
 * Records a domain event of a direct route (events.md, Delivery). Access events (reads) go to the
 * process's batching Kafka producer and are never waited for: no database or broker on the read
 * path. State events are written to the outbox and awaited (group commit, a few ms), so a success
 * answer implies a durable event; while PostgreSQL is away they wait in the writer's buffer, and
 * once it is full the request answers 503 rather than lose its event.
 */
export async function emitEvent<T extends EventType>(
  app: FastifyInstance,
  request: FastifyRequest,
  eventType: T,
  data: EventData[T],
  /** `eventId`: for a request a client may retry (see `deterministicEventId`). */
  options: { eventId?: string } = {},
): Promise<void> {
  const input = {
    eventType,
    data,
    ...(options.eventId ? { eventId: options.eventId } : {}),
    requestId: request.id,
    actor: { user_id: request.user?.sub ?? null, ip: request.ip ?? null },
  };
  if (isAccessEvent(eventType)) {
    app.deps.accessEvents.publish(input as RecordEventInput<AccessEventType>);
    return;
  }
  let written: Promise<boolean>;
  try {
    written = app.deps.outboxWriter.write(input);
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
  await written;
}
