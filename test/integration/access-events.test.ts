import { setFlagsFromString } from 'node:v8';
import type { EachMessagePayload } from 'kafkajs';
import { createKafka } from '../../src/kafka/client';
import { KafkaSockets } from '../../src/kafka/sockets';
import { createLogger } from '../../src/logger';
import { startAuthFake, type AuthFake } from '../support/auth-fake';
import { call, startAuthStack, type AuthStack } from '../support/auth-gateway';
import { createTopic } from '../support/events';
import { metricValue } from '../support/gateway';
import { stackService, testConfig, uniqueSuffix, waitFor } from '../support/stack';

jest.setTimeout(300_000);

interface Received {
  key: string | null;
  headers: Record<string, string>;
  envelope: {
    event_id: string;
    event_type: string;
    occurred_at: string;
    request_id: string;
    data: Record<string, unknown>;
  };
}

/** Collects every message of the given topics from the beginning, until `stop()`. */
async function collect(topics: string[]) {
  // This consumer lives through the Kafka restart below: kafkajs' disconnect() misses a socket then.
  const sockets = new KafkaSockets();
  const kafka = createKafka(testConfig().KAFKA_BOOTSTRAP_SERVERS, 'test-access-events', createLogger('silent'), {
    socketFactory: sockets.factory,
  });
  const consumer = kafka.consumer({ groupId: `test-access-${uniqueSuffix()}`, maxWaitTimeInMs: 100 });
  const seen: Received[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }: EachMessagePayload) => {
      const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
      seen.push({
        key: message.key ? String(message.key) : null,
        headers,
        envelope: JSON.parse(String(message.value)),
      });
    },
  });
  const ofRequests = (ids: string[]) => {
    const wanted = new Set(ids);
    return seen.filter((e) => wanted.has(e.envelope.request_id));
  };
  const stop = async () => {
    await consumer.disconnect();
    sockets.endAll();
  };
  return { seen, ofRequests, stop };
}

/** Sequential GET /v1/client/me: request ids and each call's latency in ms. */
async function readMe(url: string, token: string, n: number) {
  const ids: string[] = [];
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const res = await call(url, 'GET', '/v1/client/me', { token });
    ms.push(performance.now() - started);
    expect(res.status).toBe(200);
    ids.push(String(res.headers['x-request-id']));
  }
  return { ids, median: [...ms].sort((a, b) => a - b)[Math.floor(n / 2)]! };
}

/** events.md, Delivery → Access events: straight to Kafka, never awaited, bounded and counted loss. */
describe('access events', () => {
  const suffix = uniqueSuffix();
  const topics = {
    KAFKA_AUTH_EVENTS_TOPIC: `test-access-auth-${suffix}`,
    KAFKA_USER_EVENTS_TOPIC: `test-access-user-${suffix}`,
    KAFKA_ORGANIZATION_EVENTS_TOPIC: `test-access-org-${suffix}`,
  };
  let fake: AuthFake;
  let s: AuthStack;
  let tiny: AuthStack;
  let events: Awaited<ReturnType<typeof collect>>;
  let user: { sub: string; token: string };

  beforeAll(async () => {
    // As src/api/v8-flags.ts does in the API process (this one runs the gateway in the test's).
    setFlagsFromString('--expose-gc');
    for (const topic of Object.values(topics)) await createTopic(topic);
    fake = await startAuthFake({ port: 0, internalKey: 'test-internal-key' });
    s = await startAuthStack({ ...topics, ACCESS_EVENTS_RETURN_MEMORY_AFTER: '30' }, fake);
    tiny = await startAuthStack({ ...topics, ACCESS_EVENTS_BUFFER: '5' }, fake);
    const created = fake.createUser({ email: `access-${suffix}@example.com`, password: 'access-pass-1' });
    user = { sub: created.sub, token: (await fake.issueTokens(created.sub)).access_token };
    events = await collect(Object.values(topics));
  });

  afterAll(async () => {
    setFlagsFromString('--no-expose-gc');
    await events?.stop();
    await s?.close();
    await tiny?.close();
    await fake?.close();
  });

  it('publishes with the envelope, key and headers of events.md, and no key for an invalid token', async () => {
    const { ids } = await readMe(s.gw.url, user.token, 3);
    const invalid = await call(s.gw.url, 'GET', '/auth/validate', {
      headers: { 'x-internal-key': 'test-internal-key', authorization: 'Bearer not.a.token' },
    });
    const invalidId = String(invalid.headers['x-request-id']);
    await waitFor('4 access events', async () => events.ofRequests([...ids, invalidId]).length >= 4);

    const me = events.ofRequests(ids);
    expect(me.map((e) => e.envelope.request_id)).toEqual(ids);
    for (const e of me) {
      expect(e.key).toBe(user.sub);
      expect(e.headers).toEqual({
        event_id: e.envelope.event_id,
        event_type: 'user_info_requested',
        request_id: e.envelope.request_id,
      });
      expect(e.envelope).toMatchObject({
        event_type: 'user_info_requested',
        version: 1,
        source: 'api-gateway',
        actor: { user_id: user.sub, ip: expect.stringMatching(/127\.0\.0\.1$/) as unknown },
        data: { user_id: user.sub },
      });
      // occurred_at and the time part of the event id (UUIDv7) are the same millisecond.
      const occurredAt = e.envelope.occurred_at;
      expect(new Date(occurredAt).toISOString()).toBe(occurredAt);
      const idTime = parseInt(e.envelope.event_id.replace(/-/g, '').slice(0, 12), 16);
      expect(idTime).toBe(Date.parse(occurredAt));
    }
    const [validated] = events.ofRequests([invalidId]);
    expect(validated).toMatchObject({
      key: null,
      envelope: {
        event_type: 'token_validated',
        actor: { user_id: null, ip: expect.stringMatching(/127\.0\.0\.1$/) as unknown },
        data: { user_id: null, valid: false },
      },
    });
    expect(await metricValue(s.gw.adminUrl, 'gateway_access_events_sent_total')).toBeGreaterThanOrEqual(4);
  });

  it('never touches PostgreSQL on GET /v1/client/me', async () => {
    // Every pooled statement goes through one of these two (src/db/database.ts); spied on, not replaced.
    const { db } = s.gw.deps;
    const statements = jest.spyOn(db, 'execute');
    const transactions = jest.spyOn(db, 'transaction');
    try {
      await readMe(s.gw.url, user.token, 10);
      await new Promise((r) => setTimeout(r, 300)); // longer than any writer linger
    } finally {
      statements.mockRestore();
      transactions.mockRestore();
    }
    expect(statements.mock.calls).toEqual([]);
    expect(transactions.mock.calls).toEqual([]);
  });

  it('keeps /me fast while Kafka is stopped, sends the events once it is back (then returns their memory), and drops the oldest from a full buffer', async () => {
    await readMe(s.gw.url, user.token, 5); // warm-up
    const baseline = await readMe(s.gw.url, user.token, 40);
    await stackService('stop', 'kafka');
    let outage: Awaited<ReturnType<typeof readMe>>;
    let tinyIds: string[];
    try {
      outage = await readMe(s.gw.url, user.token, 40);
      tinyIds = (await readMe(tiny.gw.url, user.token, 20)).ids;
      expect(await metricValue(s.gw.adminUrl, 'gateway_access_events_buffered')).toBeGreaterThanOrEqual(40);
      expect(await metricValue(tiny.gw.adminUrl, 'gateway_access_events_buffered')).toBe(5);
      await waitFor(
        '15 dropped',
        async () =>
          (await metricValue(tiny.gw.adminUrl, 'gateway_access_events_dropped_total{reason="buffer_full"}')) === 15,
      );
    } finally {
      await stackService('start', 'kafka');
    }
    // Generous: an outage must not put a wait on the request path (a Kafka timeout would be seconds).
    expect(outage.median).toBeLessThan(baseline.median * 3 + 20);

    await waitFor('the held events', async () => events.ofRequests(outage.ids).length >= 40, 120_000, 500);
    const held = events.ofRequests(outage.ids);
    expect(held.every((e) => e.key === user.sub)).toBe(true);
    expect([...new Set(held.map((e) => e.envelope.request_id))]).toEqual(outage.ids); // per-key order kept
    // A backlog of at least ACCESS_EVENTS_RETURN_MEMORY_AFTER (30 here) sent: one memory-reducing collection.
    await waitFor(
      'memory returned',
      async () => (await metricValue(s.gw.adminUrl, 'gateway_memory_returns_total')) === 1,
    );
    expect(await metricValue(tiny.gw.adminUrl, 'gateway_memory_returns_total')).toBe(0); // 5 < the default 10,000
    // The tiny buffer kept the 5 newest.
    await waitFor('the 5 kept events', async () => events.ofRequests(tinyIds).length >= 5, 60_000, 500);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(events.ofRequests(tinyIds).map((e) => e.envelope.request_id)).toEqual(tinyIds.slice(-5));
  });

  it('flushes the buffer when the app closes', async () => {
    const lingering = await startAuthStack({ ...topics, ACCESS_EVENTS_LINGER_MS: '1000' }, fake);
    const { ids } = await readMe(lingering.gw.url, user.token, 3);
    expect(await metricValue(lingering.gw.adminUrl, 'gateway_access_events_buffered')).toBe(3); // still lingering
    await lingering.close();
    await waitFor('the flushed events', async () => events.ofRequests(ids).length >= 3, 30_000);
  });
});
