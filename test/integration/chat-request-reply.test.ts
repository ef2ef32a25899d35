import { Registry } from 'prom-client';
import type { UserContext } from '../../src/auth/types';
import { ChatRequestReply } from '../../src/chat/request-reply';
import type { Config } from '../../src/config';
import { HttpError } from '../../src/errors';
import { createKafka } from '../../src/kafka/client';
import { createLogger } from '../../src/logger';
import { chatTopics } from '../../src/chat/operations';
import {
  CHAT_ERROR_ANSWERS,
  chatTestConfig,
  deleteChatTopics,
  startChatFake,
  type ChatServiceFake,
} from '../support/chat-fake';
import { uniqueSuffix, waitFor } from '../support/stack';

jest.setTimeout(60_000);

const user = (sub: string): UserContext => ({
  sub,
  email: null,
  full_name: null,
  active_org_id: null,
  org_role: null,
});

async function dropped(registry: Registry, reason: string): Promise<number> {
  const metric = await registry.getSingleMetric('gateway_chat_replies_dropped_total')!.get();
  return metric.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

async function failure(p: Promise<unknown>): Promise<HttpError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof HttpError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

describe('ChatRequestReply against the chat-service fake on the real broker', () => {
  let config: Config;
  let fake: ChatServiceFake;
  let chat: ChatRequestReply;
  let registry: Registry;
  const alice = user('00000000-0000-4000-8000-00000000a11c');

  beforeAll(async () => {
    config = await chatTestConfig({ CHAT_REQUEST_TIMEOUT_MS: '5000' }, 'rr');
    fake = await startChatFake(config);
    registry = new Registry();
    chat = new ChatRequestReply({ config, logger: createLogger('silent'), registry });
    await chat.whenReady(20_000);
  });

  afterEach(() => fake.reset());

  afterAll(async () => {
    await chat?.close();
    await fake?.stop();
    await deleteChatTopics(config);
  });

  it('sends the request envelope of the contract and returns the reply', async () => {
    const created = await chat.request(
      'chat_create_conversation',
      { topic: 'NDA review' },
      { userContext: alice, requestMetadata: { gateway_request_id: 'req-1', source_ip: '127.0.0.1' } },
    );
    expect(created).toMatchObject({ conversation_id: 1, topic: 'NDA review', org_id: null });
    await expect(
      chat.request('chat_get_conversation', { conversation_id: 1 }, { userContext: alice }),
    ).resolves.toEqual(created);

    const sent = fake.requests('chat_create_conversation')[0]!;
    const env = sent.envelope as Record<string, any>;
    expect(sent.topic).toBe(config.CHAT_UI_CONVERSATIONS_TOPIC);
    expect(sent.key).toBe(env.request_id);
    expect(sent.headers).toEqual({
      request_id: env.request_id,
      operation: 'chat_create_conversation',
      reply_to: config.CHAT_SERVICE_RESPONSES_TOPIC,
    });
    expect(Object.keys(env).sort()).toEqual(
      ['deadline', 'message_id', 'operation', 'payload', 'reply_to', 'request_id', 'timestamp'].sort(),
    );
    expect(env.message_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(env.message_id).not.toBe(env.request_id);
    expect(env.reply_to).toBe(config.CHAT_SERVICE_RESPONSES_TOPIC);
    const deadlineIn = Date.parse(env.deadline) - Date.parse(env.timestamp);
    expect(deadlineIn).toBeGreaterThan(4_000);
    expect(deadlineIn).toBeLessThanOrEqual(5_000);
    expect(env.payload).toEqual({
      topic: 'NDA review',
      user_context: alice,
      request_metadata: { gateway_request_id: 'req-1', source_ip: '127.0.0.1' },
    });
  });

  it('keeps the request_id on a retry and the chat service applies it once', async () => {
    const requestId = `retry-${Date.now()}`;
    const first = await chat.request(
      'chat_create_prompt',
      { title: 'T', content: 'C' },
      { userContext: alice, requestId },
    );
    const again = await chat.request(
      'chat_create_prompt',
      { title: 'T', content: 'C' },
      { userContext: alice, requestId },
    );
    expect(again).toEqual(first);
    const sends = fake.requests('chat_create_prompt').map((r) => r.envelope as Record<string, string>);
    expect(sends.map((e) => e.request_id)).toEqual([requestId, requestId]);
    expect(new Set(sends.map((e) => e.message_id)).size).toBe(2);
    expect((await chat.request('chat_get_prompts', {}, { userContext: alice })).total_count).toBe(1);
  });

  it.each(CHAT_ERROR_ANSWERS)('maps the chat error %j to %i', async (error, status, code, detail) => {
    fake.set({ error });
    const err = await failure(chat.request('chat_get_conversation', { conversation_id: 1 }, { userContext: alice }));
    expect({ status: err.status, code: err.code, detail: err.detail }).toEqual({ status, code, detail });
  });

  it('answers not_found for another user’s number and validation_error for a missing field', async () => {
    const bob = user('00000000-0000-4000-8000-000000000b0b');
    expect(
      (await failure(chat.request('chat_get_conversation', { conversation_id: 1 }, { userContext: bob }))).status,
    ).toBe(404);
    const invalid = await failure(chat.request('chat_create_conversation', {} as never, { userContext: alice }));
    expect(invalid.status).toBe(422);
    expect(invalid.detail).toMatch(/topic/);
  });

  it('fails with 504 at the deadline when no reply comes, and counts the late reply', async () => {
    fake.set({ delayMs: 1_200 });
    const lateBefore = await dropped(registry, 'late');
    const started = Date.now();
    const err = await failure(chat.request('chat_get_settings', {}, { timeoutMs: 400 }));
    const elapsed = Date.now() - started;
    expect(err.status).toBe(504);
    expect(err.code).toBe('upstream_timeout');
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed).toBeLessThan(1_000);
    await waitFor('late reply counted', async () => (await dropped(registry, 'late')) > lateBefore, 5_000);
  });

  it('drops duplicate and malformed replies, counting them, and keeps working', async () => {
    fake.set({ duplicateReplies: true });
    const dupBefore = await dropped(registry, 'duplicate');
    await chat.request('chat_get_settings', {});
    await waitFor('duplicate counted', async () => (await dropped(registry, 'duplicate')) > dupBefore, 5_000);

    const malformedBefore = await dropped(registry, 'malformed');
    const producer = createKafka(
      config.CHAT_SERVICE_KAFKA_BOOTSTRAP_SERVERS,
      'test-garbage',
      createLogger('silent'),
    ).producer();
    await producer.connect();
    await producer.send({
      topic: config.CHAT_SERVICE_RESPONSES_TOPIC,
      messages: [
        { key: 'x', value: 'not json at all' },
        { key: 'y', value: JSON.stringify({ request_id: 'y', status: 'maybe' }) },
        { key: 'z', value: JSON.stringify([1, 2, 3]) },
      ],
    });
    await producer.disconnect();
    await waitFor(
      'malformed counted',
      async () => (await dropped(registry, 'malformed')) >= malformedBefore + 3,
      5_000,
    );
    fake.reset();
    await expect(chat.request('chat_get_settings', {})).resolves.toMatchObject({ items: expect.any(Array) });
  });

  it('delivers each reply only to the instance that asked, under concurrent load on two instances', async () => {
    const regB = new Registry();
    const other = new ChatRequestReply({ config, logger: createLogger('silent'), registry: regB, role: 'worker' });
    try {
      await other.whenReady(20_000);
      const carol = user('00000000-0000-4000-8000-0000000ca201');
      const calls = (rr: ChatRequestReply, name: string) =>
        Array.from({ length: 150 }, (_, i) =>
          rr.request('chat_create_prompt', { title: `${name}-${i}`, content: name }, { userContext: carol }),
        );
      const [a, b] = await Promise.all([Promise.all(calls(chat, 'A')), Promise.all(calls(other, 'B'))]);
      expect(a.map((p) => p.title)).toEqual(Array.from({ length: 150 }, (_, i) => `A-${i}`));
      expect(b.map((p) => p.title)).toEqual(Array.from({ length: 150 }, (_, i) => `B-${i}`));
      // Each saw the other's 150 replies and ignored them.
      await waitFor('foreign replies ignored', async () => (await dropped(regB, 'unknown')) >= 150, 5_000);
      const ids = new Set([...a, ...b].map((p) => p.prompt_id));
      expect(ids.size).toBe(300);
    } finally {
      await other.close();
    }
  });

  it('answers quickly: the reply consumer does not sit out kafkajs’ 5 s fetch wait', async () => {
    const times: number[] = [];
    for (let i = 0; i < 20; i += 1) {
      const t = performance.now();
      await chat.request('chat_get_settings', {});
      times.push(performance.now() - t);
    }
    times.sort((x, y) => x - y);
    const p50 = times[10]!;
    expect(p50).toBeLessThan(150);
  });

  it('the chat fake commits the offsets it consumed in the background (kafkajs autoCommit is off)', async () => {
    fake.set({ silent: true }); // the suite's fake stays quiet: only `second` answers
    const groupId = `chat-fake-commit-${uniqueSuffix()}`;
    const second = await startChatFake(config, {}, groupId);
    let stopped = false;
    const admin = createKafka(
      config.CHAT_SERVICE_KAFKA_BOOTSTRAP_SERVERS,
      'commit-check',
      createLogger('silent'),
    ).admin();
    await admin.connect();
    try {
      for (let i = 0; i < 5; i += 1) await chat.request('chat_get_settings', {});
      const topic = chatTopics(config).requests.CHAT_UI_SETTINGS_TOPIC;
      const high = (await admin.fetchTopicOffsets(topic)).filter((p) => Number(p.high) > 0);
      expect(high.length).toBeGreaterThan(0);
      // Committed by the 1 s timer while the fake runs, up to the end of what it read.
      await waitFor(
        'the fake to commit its offsets',
        async () => {
          const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
          return high.every((p) => committed!.partitions.find((c) => c.partition === p.partition)?.offset === p.high);
        },
        10_000,
      );
      await second.stop();
      stopped = true;
    } finally {
      if (!stopped) await second.stop();
      await admin.disconnect();
    }
  });

  it('fails pending calls with 503 on close', async () => {
    const closing = new ChatRequestReply({ config, logger: createLogger('silent') });
    await closing.whenReady(20_000);
    fake.set({ silent: true });
    const pending = failure(closing.request('chat_get_settings', {}));
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    await closing.close();
    const err = await pending;
    expect(err.status).toBe(503);
    expect(err.code).toBe('upstream_unavailable');
    expect(Date.now() - started).toBeLessThan(6_000);
    expect((await failure(closing.request('chat_get_settings', {}))).status).toBe(503);
  });
});
