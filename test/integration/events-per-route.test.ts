import type { EachMessagePayload } from 'kafkajs';
import { EVENT_CATALOG, EVENT_TYPES } from '../../src/events/catalog';
import { createKafka } from '../../src/kafka/client';
import { createLogger } from '../../src/logger';
import { call, startAuthWorkerStack, type AuthWorkerStack } from '../support/auth-gateway';
import { testConfig, uniqueSuffix, waitFor } from '../support/stack';

jest.setTimeout(180_000);

interface Seen {
  topic: string;
  key: string;
  headers: Record<string, string>;
  envelope: any;
}

/**
 * Every event type of events.md, caused by its route through the gateway (and the worker for the
 * workflow-backed ones), arrives on its topic with the right key, headers and envelope.
 */
describe('every domain event on its topic', () => {
  const suffix = uniqueSuffix();
  const topics = {
    KAFKA_AUTH_EVENTS_TOPIC: `test-auth-events-${suffix}`,
    KAFKA_USER_EVENTS_TOPIC: `test-user-events-${suffix}`,
    KAFKA_ORGANIZATION_EVENTS_TOPIC: `test-organization-events-${suffix}`,
  };
  const taskQueue = `test-events-${suffix}`;
  const overrides = {
    ...topics,
    TEMPORAL_TASK_QUEUE: taskQueue,
    INTERNAL_SERVICE_KEY: 'test-internal-key',
    OUTBOX_POLL_INTERVAL_MS: '100',
  };
  const seen: Seen[] = [];
  let s: AuthWorkerStack;
  const kafka = createKafka(testConfig().KAFKA_BOOTSTRAP_SERVERS, 'test-events-per-route', createLogger('silent'));
  const consumer = kafka.consumer({ groupId: `test-events-${suffix}`, maxWaitTimeInMs: 100 });

  beforeAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: Object.values(topics).map((topic) => ({ topic, numPartitions: 3 })),
      waitForLeaders: true,
    });
    await admin.disconnect();
    await consumer.connect();
    await consumer.subscribe({ topics: Object.values(topics), fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, message }: EachMessagePayload) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
        seen.push({ topic, key: String(message.key), headers, envelope: JSON.parse(String(message.value)) });
      },
    });
    s = await startAuthWorkerStack(overrides);
  });

  afterAll(async () => {
    await consumer.disconnect();
    await s.close();
  });

  it('publishes all 15 event types with topic, key, headers and envelope per events.md', async () => {
    const url = s.gw.url;
    const key = { 'x-internal-key': 'test-internal-key' };
    const ownerEmail = `owner-${suffix}@example.com`;
    const signUp = await call(url, 'POST', '/v1/client/sign-up', {
      body: { email: ownerEmail, password: 'owner-pass-123' },
    });
    expect(signUp.status).toBe(201);
    const ownerId = signUp.body.user.user_id as string;
    const signIn = await call(url, 'POST', '/v1/client/sign-in/password', {
      body: { email: ownerEmail, password: 'owner-pass-123' },
    });
    const token = signIn.body.access_token as string;
    expect(
      (await call(url, 'POST', '/v1/client/refresh_token', { body: { refresh_token: signIn.body.refresh_token } }))
        .status,
    ).toBe(200);
    expect((await call(url, 'GET', '/v1/client/me', { token })).status).toBe(200);
    const org = await call(url, 'POST', '/v1/org', { token, body: { name: `Events Org ${suffix}` } });
    expect(org.status).toBe(201);
    const orgId = org.body.org_id as string;
    expect((await call(url, 'PATCH', '/v1/client/switch-org', { token, body: { org_id: orgId } })).status).toBe(200);
    expect((await call(url, 'GET', `/v1/org/${orgId}/members`, { token })).status).toBe(200);

    const memberEmail = `member-${suffix}@example.com`;
    const member = s.fake.createUser({ email: memberEmail, password: 'member-pass-123' });
    const memberToken = (await s.fake.issueTokens(member.sub)).access_token;
    const invite = await call(url, 'POST', `/v1/org/${orgId}/invite`, { token, body: { email: memberEmail } });
    expect(invite.status).toBe(201);
    expect(
      (
        await call(url, 'POST', '/v1/invite/accept', {
          token: memberToken,
          body: { invite_token: invite.body.invite_token },
        })
      ).status,
    ).toBe(200);
    expect(
      (await call(url, 'PATCH', `/v1/org/${orgId}/member/${member.sub}/role`, { token, body: { role: 'admin' } }))
        .status,
    ).toBe(200);
    expect((await call(url, 'DELETE', `/v1/org/${orgId}/member/${member.sub}`, { token })).status).toBe(204);

    expect(
      (await call(url, 'GET', '/auth/validate', { headers: { ...key, authorization: `Bearer ${token}` } })).status,
    ).toBe(200);
    expect((await call(url, 'GET', `/auth/user/${ownerId}`, { headers: key })).status).toBe(200);
    expect((await call(url, 'GET', `/auth/user/${ownerId}/orgs`, { headers: key })).status).toBe(200);
    expect(
      (await call(url, 'POST', '/v1/client/logout', { token, body: { refresh_token: signIn.body.refresh_token } }))
        .status,
    ).toBe(204);

    await waitFor(
      'every event type',
      async () => EVENT_TYPES.every((t) => seen.some((e) => e.envelope.event_type === t)),
      60_000,
      250,
    );

    const topicOf = {
      auth: topics.KAFKA_AUTH_EVENTS_TOPIC,
      user: topics.KAFKA_USER_EVENTS_TOPIC,
      organization: topics.KAFKA_ORGANIZATION_EVENTS_TOPIC,
    };
    for (const type of EVENT_TYPES) {
      const events = seen.filter((e) => e.envelope.event_type === type);
      for (const e of events) {
        const entry = EVENT_CATALOG[type] as { key: string; topic?: string };
        expect({ type, topic: e.topic }).toEqual({
          type,
          topic: expect.stringMatching(/^test-(auth|user|organization)-events-/),
        });
        expect(e.key).toBe(e.envelope.data[entry.key]);
        expect(e.headers).toEqual({
          event_id: e.envelope.event_id,
          event_type: type,
          request_id: e.envelope.request_id,
        });
        expect(e.envelope).toMatchObject({
          version: 1,
          source: 'api-gateway',
          actor: expect.any(Object),
          occurred_at: expect.any(String),
        });
        expect(JSON.stringify(e.envelope)).not.toMatch(/owner-pass-123|member-pass-123/);
      }
    }
    const expectTopic = (type: string, topic: string) =>
      expect(seen.filter((e) => e.envelope.event_type === type).every((e) => e.topic === topic)).toBe(true);
    for (const t of ['user_registered', 'user_logged_in', 'user_logged_out', 'token_refreshed', 'token_validated'])
      expectTopic(t, topicOf.auth);
    for (const t of ['user_info_requested', 'organization_switched', 'user_detail_requested', 'user_orgs_requested'])
      expectTopic(t, topicOf.user);
    for (const t of [
      'organization_created',
      'user_invited',
      'invite_accepted',
      'members_listed',
      'member_removed',
      'member_role_updated',
    ])
      expectTopic(t, topicOf.organization);
    // No event twice by event_id.
    expect(new Set(seen.map((e) => e.envelope.event_id)).size).toBe(seen.length);
  });
});
