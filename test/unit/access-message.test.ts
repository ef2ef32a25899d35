import { accessMessage, type AccessEventFields } from '../../src/events/access-message';
import type { AccessEventType } from '../../src/events/catalog';
import { InvalidEventError, buildEvent, type RecordEventInput } from '../../src/events/outbox';
import { isoTime } from '../../src/lib/iso-time';
import { testConfig } from '../support/stack';

const config = testConfig();

// Request ids, user ids and reasons a caller may send: quotes, backslashes, control characters,
// non-ASCII, a lone surrogate, and the longest ordinary ones.
const TEXTS = ['r-1', 'a"b\\c', 'tab\there\nnewline\u0000', 'é€😀', '\ud800 lone', '</script>', 'x'.repeat(300)];

/** The publisher's flat fields of an event as buildEvent takes it. */
const flat = (input: RecordEventInput<AccessEventType>): AccessEventFields => ({
  eventType: input.eventType,
  data: input.data,
  requestId: input.requestId,
  userId: input.actor?.user_id ?? null,
  ip: input.actor?.ip ?? null,
  ...(input.eventId === undefined ? {} : { eventId: input.eventId }),
});

function inputs(): RecordEventInput<AccessEventType>[] {
  const out: RecordEventInput<AccessEventType>[] = [];
  for (const text of TEXTS) {
    const actors = [
      { user_id: text, ip: '203.0.113.7' },
      { user_id: null, ip: null },
      { user_id: 'u-1', ip: text },
    ];
    for (const actor of actors) {
      out.push({ eventType: 'user_info_requested', data: { user_id: text }, requestId: text, actor });
      out.push({ eventType: 'user_detail_requested', data: { user_id: 'u-2' }, requestId: text, actor });
      out.push({ eventType: 'user_orgs_requested', data: { user_id: text }, requestId: 'r', actor });
      out.push({ eventType: 'members_listed', data: { org_id: text }, requestId: text, actor });
      out.push({ eventType: 'token_validated', data: { user_id: text, valid: true }, requestId: text, actor });
      out.push({
        eventType: 'token_validated',
        data: { user_id: null, valid: false, reason: text },
        requestId: text,
        actor: undefined as never,
      });
    }
  }
  return out;
}

describe('an access event as a Kafka message', () => {
  it('carries exactly the text, headers and topic of the envelope buildEvent makes', () => {
    const at = Date.UTC(2026, 11, 7, 4, 30, 0, 7);
    const all = inputs();
    expect(all.length).toBe(TEXTS.length * 18);
    for (const input of all) {
      const { topic, message } = accessMessage(config, flat(input), at);
      const value = message.value as string;
      const eventId = (JSON.parse(value) as { event_id: string }).event_id;
      // The same event id on both sides, then the whole text must match.
      const built = buildEvent(config, { ...input, eventId, occurredAt: new Date(at) });
      expect(value).toBe(JSON.stringify(built.envelope));
      expect(message.headers).toEqual(built.headers);
      expect(topic).toBe(built.topic);
      // Keyed by its subject; an invalid token's event has none (the outbox keys it by its id).
      expect(message.key).toBe((input.data as { user_id?: string | null }).user_id === null ? null : built.key);
    }
  });

  it('makes a new time-ordered id from the time it is given, and takes a given one lower-cased', () => {
    const at = Date.UTC(2026, 11, 7, 4, 30, 0, 7);
    const input: RecordEventInput<'user_info_requested'> = {
      eventType: 'user_info_requested',
      data: { user_id: 'u-1' },
      requestId: 'r-1',
      actor: { user_id: 'u-1', ip: null },
    };
    const a = JSON.parse(accessMessage(config, flat(input), at).message.value as string) as Record<string, unknown>;
    const b = JSON.parse(accessMessage(config, flat(input), at).message.value as string) as Record<string, unknown>;
    expect(a.event_id).not.toBe(b.event_id);
    expect(String(a.event_id).replace(/-/g, '').slice(0, 12)).toBe(at.toString(16).padStart(12, '0'));
    expect(a.occurred_at).toBe('2026-12-07T04:30:00.007Z');
    const given = '0192F0C2-8A1B-7C3D-9E4F-0123456789AB';
    const c = accessMessage(config, flat({ ...input, eventId: given }), at).message;
    expect(c.headers).toMatchObject({ event_id: given.toLowerCase() });
  });

  it('refuses what buildEvent refuses', () => {
    const base = { requestId: 'r-1', actor: { user_id: null, ip: null } };
    const bad = [
      { ...base, eventType: 'user_info_requested', data: { user_id: 'u', password: 'p' } },
      { ...base, eventType: 'user_info_requested', data: { user_id: '' } },
      { ...base, eventType: 'members_listed', data: { org_id: 'o', extra: 1 } },
      { ...base, eventType: 'user_info_requested', data: { user_id: 'u' }, requestId: '' },
      { ...base, eventType: 'user_info_requested', data: { user_id: 'u' }, eventId: 'not-a-uuid' },
      { ...base, eventType: 'no_such_event', data: {} },
    ] as unknown as RecordEventInput<AccessEventType>[];
    for (const input of bad) {
      expect(() => buildEvent(config, input)).toThrow(InvalidEventError);
      expect(() => accessMessage(config, flat(input), Date.now())).toThrow(InvalidEventError);
    }
  });
});

describe('isoTime', () => {
  it('writes what toISOString writes', () => {
    const edges = [0, 1, 9, 10, 99, 100, 999, 1000, 59_999, 86_399_999, 951_782_400_000, 253_402_300_799_999];
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const times = [...edges, ...Array.from({ length: 2000 }, () => Math.floor(random() * 253_402_300_800_000))];
    // Runs of neighbouring milliseconds, forwards and back across second boundaries.
    const now = Date.UTC(2026, 11, 7, 4, 30, 59, 990);
    for (let d = -30; d <= 30; d++) times.push(now + d, now - d);
    // Outside what the shortcut takes: negative, fractional, six-digit years.
    times.push(-1, -86_400_001, 1.5, 1_765_000_000_000.25, 253_402_300_800_000, 8.64e15);
    for (const ms of times) expect([ms, isoTime(ms)]).toEqual([ms, new Date(ms).toISOString()]);
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
  });
});
