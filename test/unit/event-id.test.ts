import { buildEvent, deterministicEventId, InvalidEventError, newEventId } from '../../src/events/outbox';

describe('event ids', () => {
  it('newEventId is a UUID version 7 whose first 48 bits are the time in ms', () => {
    const at = Date.UTC(2026, 10, 27, 12, 0, 0, 123);
    const id = newEventId(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
  });

  it('newEventId sorts by time and does not repeat', () => {
    const ids = Array.from({ length: 2_000 }, (_, i) => newEventId(1_800_000_000_000 + Math.floor(i / 100)));
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 100; i < ids.length; i += 100) expect(ids[i - 1]! < ids[i]!).toBe(true);
  });

  it('deterministicEventId is stable per workflow and step, and version 8', () => {
    const a = deterministicEventId('sign-up-1', 'user_registered');
    expect(a).toBe(deterministicEventId('sign-up-1', 'user_registered'));
    expect(a).not.toBe(deterministicEventId('sign-up-1', 'other'));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('deterministicEventId of a given workflow and step never changes (retries after a deploy rewrite the same row)', () => {
    expect(deterministicEventId('sign-up-1', 'user_registered')).toBe('e10e3ceb-11d3-8e79-a064-937df559e02d');
  });

  it('buildEvent takes a given id in lower case, refuses one that is not a UUID, and makes one at occurredAt', () => {
    const topics = { KAFKA_AUTH_EVENTS_TOPIC: 'a', KAFKA_USER_EVENTS_TOPIC: 'u', KAFKA_ORGANIZATION_EVENTS_TOPIC: 'o' };
    const base = {
      eventType: 'user_logged_in' as const,
      data: { user_id: 'u-1' },
      requestId: 'req-1',
      actor: { user_id: 'u-1', ip: null },
    };
    const given = buildEvent(topics, { ...base, eventId: '0190ABCD-0000-7000-8000-00000000ABCD' });
    expect([given.envelope.event_id, given.headers.event_id]).toEqual([
      '0190abcd-0000-7000-8000-00000000abcd',
      '0190abcd-0000-7000-8000-00000000abcd',
    ]);
    expect(() => buildEvent(topics, { ...base, eventId: 'not-a-uuid' })).toThrow(InvalidEventError);
    const at = new Date(Date.UTC(2026, 11, 6, 12, 0, 0, 5));
    const made = buildEvent(topics, { ...base, occurredAt: at });
    expect(parseInt(made.envelope.event_id.replace(/-/g, '').slice(0, 12), 16)).toBe(at.getTime());
    expect(made.envelope.occurred_at).toBe(at.toISOString());
  });
});
