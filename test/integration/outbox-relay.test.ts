import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import type { Config } from '../../src/config';
import { Database } from '../../src/db/database';
import type { EventType } from '../../src/events/catalog';
import {
  InvalidEventError,
  deterministicEventId,
  recordEvent,
  recordEventNow,
  type RecordEventInput,
} from '../../src/events/outbox';
import { OutboxRelay, type OutboxRelayOptions, type RelayProducer } from '../../src/events/relay';
import { createKafka } from '../../src/kafka/client';
import { createLogger } from '../../src/logger';
import { ENVELOPE_FIELDS } from '../support/events';
import { ownDatabase, stackService, testConfig, uniqueSuffix, waitFor } from '../support/stack';

jest.setTimeout(300_000);

interface Received {
  topic: string;
  partition: number;
  key: string;
  value: Record<string, any>;
  raw: string;
  headers: Record<string, string>;
}

const logger = createLogger('silent');
const suffix = uniqueSuffix();
const TOPICS = {
  KAFKA_AUTH_EVENTS_TOPIC: `test-auth-events-${suffix}`,
  KAFKA_USER_EVENTS_TOPIC: `test-user-events-${suffix}`,
  KAFKA_ORGANIZATION_EVENTS_TOPIC: `test-organization-events-${suffix}`,
};
let config: Config;
// The relays of this file work on a database of their own: relays in other test files (or other
// processes) share the lock name but never see these rows, and these relays never see theirs.
let database: { url: string; drop(): Promise<void> };
let db: Database;
let kafka: Kafka;
let admin: Admin;
const relays: OutboxRelay[] = [];
const consumers: Consumer[] = [];

function newRelay(extra: Partial<OutboxRelayOptions> = {}) {
  const registry = new Registry();
  const relay = OutboxRelay.fromConfig(config, logger, {
    registry,
    pollIntervalMs: 50,
    minBackoffMs: 100,
    maxBackoffMs: 1_000,
    ...extra,
  });
  relays.push(relay);
  return { relay, registry };
}

/** A consumer of all three test topics, from the beginning, collecting everything. */
async function consumeAll(): Promise<{ messages: Received[]; consumer: Consumer }> {
  const consumer = kafka.consumer({ groupId: `test-outbox-relay-${uniqueSuffix()}`, maxWaitTimeInMs: 100 });
  consumers.push(consumer);
  const messages: Received[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: Object.values(TOPICS), fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      const raw = String(message.value);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      messages.push({ topic, partition, key: String(message.key), value: JSON.parse(raw), raw, headers });
    },
  });
  return { messages, consumer };
}

async function stopConsumer(consumer: Consumer) {
  await consumer.disconnect().catch(() => undefined);
  consumers.splice(consumers.indexOf(consumer), 1);
}

function input<T extends EventType>(
  eventType: T,
  data: RecordEventInput<T>['data'],
  extra: Partial<RecordEventInput<T>> = {},
): RecordEventInput<T> {
  return { eventType, data, requestId: `req-${randomUUID()}`, actor: { user_id: null, ip: '203.0.113.7' }, ...extra };
}

async function gauge(registry: Registry, name: string): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return values[0]?.value ?? NaN;
}

async function unpublished(eventIds: string[]) {
  return db.execute<{ event_id: string; attempts: number; last_error: string | null }[]>(
    'select event_id, attempts, last_error from outbox_events where event_id = any($1::uuid[]) and published_at is null',
    [`{${eventIds.join(',')}}`],
  );
}

beforeAll(async () => {
  database = await ownDatabase('outbox_relay');
  config = testConfig({ ...TOPICS, DATABASE_URL: database.url });
  db = new Database(config);

  kafka = createKafka(config.KAFKA_BOOTSTRAP_SERVERS, 'test-outbox-relay', logger);
  admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: Object.values(TOPICS).map((topic) => ({ topic, numPartitions: 3 })),
    waitForLeaders: true,
  });
});

afterEach(async () => {
  await Promise.all(relays.splice(0).map((r) => r.stop()));
  await Promise.all(consumers.splice(0).map((c) => c.disconnect().catch(() => undefined)));
});

afterAll(async () => {
  await admin?.deleteTopics({ topics: Object.values(TOPICS) }).catch(() => undefined);
  await admin?.disconnect();
  await db?.close();
  await database?.drop();
});

describe('outbox relay', () => {
  it('publishes each event to its topic with its key, headers and envelope; rolled-back events never', async () => {
    const { messages } = await consumeAll();
    newRelay().relay.start();
    const userId = randomUUID();
    const orgId = randomUUID();

    const registered = await recordEventNow(
      db,
      config,
      input(
        'user_registered',
        { user_id: userId, email: 'u@example.com' },
        { requestId: 'req-registered', actor: { user_id: null, ip: '203.0.113.7' } },
      ),
    );
    const switched = await recordEventNow(
      db,
      config,
      input('organization_switched', { user_id: userId, org_id: orgId }, { actor: { user_id: userId, ip: null } }),
    );
    const invited = await recordEventNow(
      db,
      config,
      input('user_invited', {
        org_id: orgId,
        invite_id: randomUUID(),
        email: 'new@example.com',
        role: 'member',
        invited_by: userId,
        invite_token: 'invite-token-for-the-mail',
        expires_at: new Date(Date.now() + 86_400_000).toISOString(),
      }),
    );
    const invalid = await recordEventNow(
      db,
      config,
      input('token_validated', { user_id: null, valid: false, reason: 'expired' }),
    );
    // Written in a transaction that rolls back: must never reach Kafka.
    const rolledBack = randomUUID();
    await expect(
      db.transaction(async (em) => {
        await recordEvent(em, config, input('user_logged_in', { user_id: userId }, { eventId: rolledBack }));
        throw new Error('the work failed');
      }),
    ).rejects.toThrow('the work failed');

    await waitFor('4 events on Kafka', async () => messages.length >= 4);
    await new Promise((r) => setTimeout(r, 500));
    expect(messages).toHaveLength(4);
    const byId = new Map(messages.map((m) => [m.value.event_id as string, m]));
    expect(byId.has(rolledBack)).toBe(false);

    const reg = byId.get(registered.eventId)!;
    expect(reg.topic).toBe(TOPICS.KAFKA_AUTH_EVENTS_TOPIC);
    expect(reg.key).toBe(userId);
    expect(reg.headers).toEqual({
      event_id: registered.eventId,
      event_type: 'user_registered',
      request_id: 'req-registered',
    });
    expect(reg.value).toEqual({
      event_id: registered.eventId,
      event_type: 'user_registered',
      version: 1,
      occurred_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      source: 'api-gateway',
      request_id: 'req-registered',
      actor: { user_id: null, ip: '203.0.113.7' },
      data: { user_id: userId, email: 'u@example.com' },
    });
    // The envelope keeps the field order of events.md.
    expect(Object.keys(reg.value)).toEqual(ENVELOPE_FIELDS);

    expect(byId.get(switched.eventId)).toMatchObject({
      topic: TOPICS.KAFKA_USER_EVENTS_TOPIC,
      key: userId,
      value: { event_type: 'organization_switched', actor: { user_id: userId, ip: null } },
    });
    expect(byId.get(invited.eventId)).toMatchObject({
      topic: TOPICS.KAFKA_ORGANIZATION_EVENTS_TOPIC,
      key: orgId,
      value: { data: { invite_token: 'invite-token-for-the-mail', role: 'member' } },
    });
    // No subject: no key (events.md); the collector above writes a missing key as String(null).
    expect(byId.get(invalid.eventId)).toMatchObject({
      topic: TOPICS.KAFKA_AUTH_EVENTS_TOPIC,
      key: String(null),
      value: { data: { user_id: null, valid: false, reason: 'expired' } },
    });

    const rows = await db.execute<{ published: boolean }[]>(
      'select published_at is not null as published from outbox_events where event_id = $1',
      [registered.eventId],
    );
    expect(rows).toEqual([{ published: true }]);
  });

  it('refuses events that carry secrets or lack their key, and writes nothing', async () => {
    const userId = randomUUID();
    const bad: RecordEventInput[] = [
      input('user_registered', { user_id: userId, email: 'a@b.c', password: 'hunter22' } as never),
      input('token_refreshed', { user_id: userId, tokens: { refresh_token: 'r' } } as never),
      input('user_logged_in', { user_id: userId, access_token: 'a' } as never),
      input('organization_created', { org_id: randomUUID(), name: 'o', owner_id: userId, invite_token: 't' } as never),
      input('member_removed', { user_id: userId, removed_by: userId } as never),
      input('no_such_event' as EventType, { user_id: userId }),
    ];
    for (const event of bad) {
      await expect(recordEventNow(db, config, event)).rejects.toBeInstanceOf(InvalidEventError);
    }
    const rows = await db.execute<{ n: number }[]>(
      `select count(*)::int as n from outbox_events where payload->'data'->>'user_id' = $1`,
      [userId],
    );
    expect(rows[0]!.n).toBe(0);
  });

  it('gives a retried workflow step the same event id, and the second write is a no-op', async () => {
    const workflowId = `sign-up/${randomUUID()}`;
    const id = deterministicEventId(workflowId, 'user_registered');
    expect(deterministicEventId(workflowId, 'user_registered')).toBe(id);
    expect(deterministicEventId(workflowId, 'user_logged_in')).not.toBe(id);
    expect(deterministicEventId(`${workflowId}x`, 'user_registered')).not.toBe(id);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    const userId = randomUUID();
    const event = input('user_registered', { user_id: userId, email: 'retry@example.com' }, { eventId: id });
    const first = await db.transaction((tx) => recordEvent(tx, config, event));
    // The activity is retried (say its first attempt timed out after committing): same id again.
    const second = await db.transaction((tx) =>
      recordEvent(tx, config, { ...event, requestId: 'req-retry', occurredAt: new Date(Date.now() + 5_000) }),
    );
    expect(first).toMatchObject({ eventId: id, inserted: true });
    expect(second).toMatchObject({ eventId: id, inserted: false });
    const rows = await db.execute<{ request_id: string }[]>(
      `select headers->>'request_id' as request_id from outbox_events where event_id = $1`,
      [id],
    );
    expect(rows).toHaveLength(1);

    const { messages } = await consumeAll();
    newRelay().relay.start();
    await waitFor('the event on Kafka', async () => messages.some((m) => m.value.event_id === id));
    await new Promise((r) => setTimeout(r, 1_000));
    const copies = messages.filter((m) => m.value.event_id === id);
    expect(copies).toHaveLength(1);
    expect(copies[0]!.headers.request_id).toBe(rows[0]!.request_id);
  });

  it('keeps order per key and publishes each event once with two relays running, across a hand-over', async () => {
    const { messages } = await consumeAll();
    const a = newRelay({ batchSize: 20 });
    const b = newRelay({ batchSize: 20 });
    a.relay.start();
    b.relay.start();

    let bothLeading = 0;
    const sampler = setInterval(() => {
      if (a.relay.isLeader && b.relay.isLeader) bothLeading++;
    }, 5);

    const orgs: string[] = Array.from({ length: 5 }, () => randomUUID());
    const perKey = 40;
    const written = new Map<string, string[]>(); // org → event ids in write order
    const writers = orgs.map(async (org) => {
      const ids: string[] = [];
      written.set(org, ids);
      for (let i = 0; i < perKey; i++) {
        const { eventId } = await recordEventNow(
          db,
          config,
          input(
            i % 2 ? 'member_role_updated' : 'members_listed',
            i % 2 ? { org_id: org, user_id: randomUUID(), role: 'admin', updated_by: randomUUID() } : { org_id: org },
            { requestId: `${org}:${i}` },
          ),
        );
        ids.push(eventId);
      }
    });

    // Hand-over: once some events are out, stop whichever relay publishes; the other must take over.
    let handedOver = false;
    const handOver = (async () => {
      await waitFor(
        '80 events published',
        async () => messages.filter((m) => orgs.includes(m.key)).length >= 80,
        60_000,
        20,
      );
      const leader = a.relay.isLeader ? a.relay : b.relay.isLeader ? b.relay : null;
      if (leader) {
        await leader.stop();
        handedOver = true;
      }
    })();

    await Promise.all([...writers, handOver]);
    try {
      await waitFor(
        '200 events on Kafka',
        async () => messages.filter((m) => orgs.includes(m.key)).length >= 200,
        60_000,
        50,
      );
      await new Promise((r) => setTimeout(r, 1_000));
    } finally {
      clearInterval(sampler);
    }

    expect(handedOver).toBe(true);
    expect(bothLeading).toBe(0);
    expect(a.relay.isLeader || b.relay.isLeader).toBe(true);

    const orgSet = new Set(orgs);
    const ids = messages.filter((m) => orgSet.has(m.key)).map((m) => m.value.event_id as string);
    expect(ids).toHaveLength(200);
    expect(new Set(ids).size).toBe(200);
    for (const org of orgs) {
      const got = messages.filter((m) => m.key === org);
      expect(new Set(got.map((m) => m.partition)).size).toBe(1);
      expect(got.map((m) => m.value.event_id)).toEqual(written.get(org));
      expect(got.map((m) => m.headers.request_id)).toEqual(Array.from({ length: perKey }, (_, i) => `${org}:${i}`));
    }
    const published =
      (await gauge(a.registry, 'gateway_outbox_published_total')) +
      (await gauge(b.registry, 'gateway_outbox_published_total'));
    expect(published).toBeGreaterThanOrEqual(200);
  });

  it('holds events while Kafka is down, reports size and lag, and delivers all exactly once after', async () => {
    const warmup = await consumeAll();
    const { relay, registry } = newRelay();
    relay.start();
    const warm = await recordEventNow(db, config, input('user_logged_in', { user_id: randomUUID() }));
    await waitFor('warm-up event', async () => warmup.messages.some((m) => m.value.event_id === warm.eventId));
    await stopConsumer(warmup.consumer);
    expect(relay.isLeader).toBe(true);
    expect(await gauge(registry, 'gateway_outbox_relay_active')).toBe(1);

    const users = Array.from({ length: 5 }, () => randomUUID());
    const written = new Map<string, string[]>(users.map((u) => [u, []]));
    const eventIds: string[] = [];
    await stackService('stop', 'kafka');
    try {
      for (let i = 0; i < 50; i++) {
        const user = users[i % users.length]!;
        const { eventId } = await recordEventNow(
          db,
          config,
          input(i % 3 ? 'token_refreshed' : 'user_logged_in', { user_id: user }, { requestId: `${user}:${i}` }),
        );
        written.get(user)!.push(eventId);
        eventIds.push(eventId);
      }
      // The relay keeps trying, records why it failed, and publishes nothing.
      await waitFor(
        'failed attempts recorded',
        async () => (await unpublished(eventIds)).some((r) => r.attempts > 0 && r.last_error),
        30_000,
      );
      await new Promise((r) => setTimeout(r, 2_000));
      expect(await unpublished(eventIds)).toHaveLength(50);
      expect(await gauge(registry, 'gateway_outbox_unpublished_events')).toBeGreaterThanOrEqual(50);
      expect(await gauge(registry, 'gateway_outbox_lag_seconds')).toBeGreaterThan(1);
      expect(await gauge(registry, 'gateway_outbox_publish_failures_total')).toBeGreaterThan(0);
      expect(relay.isLeader).toBe(true);
    } finally {
      await stackService('start', 'kafka');
    }

    await waitFor('outbox drained', async () => (await unpublished(eventIds)).length === 0, 120_000, 250);
    const { messages } = await consumeAll();
    const mine = new Set(eventIds);
    await waitFor(
      '50 events on Kafka',
      async () => messages.filter((m) => mine.has(m.value.event_id)).length >= 50,
      60_000,
      100,
    );
    await new Promise((r) => setTimeout(r, 1_000));
    const received = messages.filter((m) => mine.has(m.value.event_id));
    expect(received).toHaveLength(50);
    expect(new Set(received.map((m) => m.value.event_id)).size).toBe(50);
    for (const user of users) {
      expect(received.filter((m) => m.key === user).map((m) => m.value.event_id)).toEqual(written.get(user));
    }
    await new Promise((r) => setTimeout(r, 1_100)); // metrics are cached for a second
    expect(await gauge(registry, 'gateway_outbox_unpublished_events')).toBe(0);
    expect(await gauge(registry, 'gateway_outbox_lag_seconds')).toBe(0);
  });

  it('deletes published events past the retention, oldest first, and never an unpublished one or what follows it', async () => {
    const pending = await db.execute<{ count: number }[]>(
      'select count(*)::int as count from outbox_events where published_at is null',
    );
    expect(pending[0]?.count).toBe(0); // every earlier test drained its events
    const { relay, registry } = newRelay({ retentionMs: 3_600_000 });
    const insert = async (ageHours: number, published: boolean) => {
      const { eventId } = await recordEventNow(db, config, input('user_logged_in', { user_id: randomUUID() }));
      await db.execute(
        `update outbox_events set created_at = now() - make_interval(hours => $1),
                  published_at = case when $2 then now() - make_interval(hours => $3) end
            where event_id = $4`,
        [ageHours, published, ageHours, eventId],
      );
      return eventId;
    };
    const oldPublished = await insert(48, true);
    const recentPublished = await insert(0, true);
    const oldUnpublished = await insert(48, false);
    const oldPublishedAfter = await insert(48, true);
    const remaining = async () =>
      new Set(
        (
          await db.execute<{ event_id: string }[]>(
            'select event_id from outbox_events where event_id = any($1::uuid[])',
            [`{${[oldPublished, recentPublished, oldUnpublished, oldPublishedAfter].join(',')}}`],
          )
        ).map((r) => r.event_id),
      );

    expect(await relay.prune()).toBe(1);
    expect(await remaining()).toEqual(new Set([recentPublished, oldUnpublished, oldPublishedAfter]));

    // Once the held-back row is published, it and the old row behind it go too.
    await db.execute('update outbox_events set published_at = now() where event_id = $1', [oldUnpublished]);
    expect(await relay.prune()).toBe(2);
    expect(await remaining()).toEqual(new Set([recentPublished]));
    expect(await gauge(registry, 'gateway_outbox_pruned_total')).toBe(3);
  });

  it('hands rows to an injected producer (the benchmark sink) in order, as stored, and marks them published', async () => {
    const sent: { topic: string; key: string; value: string; headers: Record<string, string>; acks: number }[] = [];
    let connects = 0;
    const producer: RelayProducer = {
      connect: async () => {
        connects += 1;
      },
      disconnect: async () => undefined,
      sendBatch: async ({ topicMessages, acks }) => {
        for (const { topic, messages } of topicMessages ?? [])
          for (const m of messages)
            sent.push({
              topic,
              key: String(m.key),
              value: String(m.value),
              headers: m.headers as Record<string, string>,
              acks: acks ?? NaN,
            });
        return [];
      },
    };
    const { relay } = newRelay({ createProducer: () => producer });
    const user = randomUUID();
    const ids: string[] = [];
    for (const eventType of ['user_logged_in', 'token_refreshed', 'user_logged_out'] as const)
      ids.push((await recordEventNow(db, config, input(eventType, { user_id: user }))).eventId);
    relay.start();

    await waitFor('the rows to be marked published', async () => (await unpublished(ids)).length === 0);
    const mine = sent.filter((m) => m.key === user);
    expect(mine.map((m) => JSON.parse(m.value).event_id)).toEqual(ids);
    expect(mine.map((m) => m.headers.event_type)).toEqual(['user_logged_in', 'token_refreshed', 'user_logged_out']);
    expect(mine.every((m) => m.topic === TOPICS.KAFKA_AUTH_EVENTS_TOPIC && m.acks === -1)).toBe(true);
    expect(connects).toBe(1);
  });
});
