import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type AccessEventType, type EventData, type EventType } from '../events/catalog';
import { OutboxFullError, type OutboxReservation } from '../events/outbox-writer';
import { HttpError } from '../errors';

const reservations = new WeakMap<FastifyRequest, OutboxReservation>();

/**
 * Takes this request's place in the outbox write buffer before the route calls its upstream
 * (routes with `config: { stateEvent: true }`, see plugins/state-events.ts): when the buffer is
 * full the request is refused with 503 before anything changed upstream, never after.
 */
export function reserveStateEvent(app: FastifyInstance, request: FastifyRequest): void {
  if (reservations.has(request)) return;
  try {
    reservations.set(request, app.deps.outboxWriter.reserve());
  } catch (err) {
    if (!(err instanceof OutboxFullError)) throw err;
    request.log.error({ pending: err.pending }, 'outbox write buffer full; refusing the request');
    throw new HttpError('upstream_unavailable', 'The gateway cannot record events right now; retry later', {
      headers: { 'retry-after': '5' },
    });
  }
}

/** Gives back a place the request did not use (it failed, or had no event to record). */
export function releaseStateEvent(request: FastifyRequest): void {
  reservations.get(request)?.release();
  reservations.delete(request);
}

/** Resolves true when `written` does within `ms`, false otherwise (the timer never outlives it). */
async function committedWithin(written: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([written, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Hands an access event (a read: events.md, Delivery) to the process's batching Kafka producer.
 * Synchronous: a read never waits for it, and a route on the read path need not await a promise.
 */
export function recordAccess<T extends AccessEventType>(
  app: FastifyInstance,
  request: FastifyRequest,
  eventType: T,
  data: EventData[T],
): void {
  app.deps.accessEvents.publish(eventType, data, request.id, request.user?.sub ?? null, request.ip ?? null);
}

/**
 * Records a state event of a direct route (events.md, Delivery; access events go through
 * `recordAccess`): written to the outbox through the request's reservation and awaited
 * (group commit, a few ms) for at most OUTBOX_WRITE_WAIT_MS. While PostgreSQL is slow or away the
 * request answers with its event held in the writer's buffer, retried until written; the window
 * that leaves (a crash during the outage) is docs/adr/0010.
 */
export async function emitEvent<T extends Exclude<EventType, AccessEventType>>(
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
  // A route without a reservation (not marked stateEvent) takes one now: it may still be refused.
  reserveStateEvent(app, request);
  const reservation = reservations.get(request)!;
  reservations.delete(request);
  const committed = await committedWithin(reservation.write(input), app.config.OUTBOX_WRITE_WAIT_MS);
  if (!committed) {
    request.log.warn(
      { event_type: eventType, buffered: app.deps.outboxWriter.pending },
      'answering before the state event is in PostgreSQL; it waits in memory and is retried',
    );
  }
}
