import type { KafkaMessage } from 'kafkajs';
import type { UserContext } from '../../src/auth/types';
import { ChatRequestReply } from '../../src/chat/request-reply';
import type { Config } from '../../src/config';
import { createKafka } from '../../src/kafka/client';
import { createLogger } from '../../src/logger';
import { chatTestConfig, deleteChatTopics, startChatFake, type ChatServiceFake } from '../support/chat-fake';
import { uniqueSuffix, waitFor } from '../support/stack';

jest.setTimeout(60_000);

const alice: UserContext = {
  sub: '00000000-0000-4000-8000-0000000ca11c',
  email: null,
  full_name: null,
  active_org_id: null,
  org_role: null,
};

interface Sent {
  partition: number;
  key: string | undefined;
  operation: string | undefined;
  envelope: { request_id: string; payload: Record<string, unknown> };
}

/** Every message on the AI topic, as the broker stored it (partition and key included). */
async function readTopic(config: Config, expected: number): Promise<Sent[]> {
  const kafka = createKafka(config.CHAT_SERVICE_KAFKA_BOOTSTRAP_SERVERS, 'test-cancel-reader', createLogger('silent'));
  const consumer = kafka.consumer({ groupId: `test-cancel-reader-${uniqueSuffix()}` });
  const sent: Sent[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: config.CHAT_UI_AI_CONVERSATION_TOPIC, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }: { partition: number; message: KafkaMessage }) => {
        sent.push({
          partition,
          key: message.key?.toString(),
          operation: message.headers?.operation?.toString(),
          envelope: JSON.parse(message.value!.toString()) as Sent['envelope'],
        });
      },
    });
    await waitFor('the AI topic read to its end', async () => sent.length >= expected, 20_000);
    return sent;
  } finally {
    await consumer.disconnect();
  }
}

/** Issue 17, item 10: a chat_cancel must never overtake the request it stops. */
describe('chat_cancel on the real broker', () => {
  let config: Config;
  let fake: ChatServiceFake;
  let chat: ChatRequestReply;

  beforeAll(async () => {
    config = await chatTestConfig({}, 'cancel');
    fake = await startChatFake(config, { tokenDelayMs: 200 });
    chat = new ChatRequestReply({ config, logger: createLogger('silent') });
    await chat.whenReady(20_000);
  });

  afterAll(async () => {
    await chat?.close();
    await fake?.stop();
    await deleteChatTopics(config);
  });

  it('is keyed by the cancelled request id, so it lands on the partition of that request', async () => {
    const cancelled: string[] = [];
    // Several streams: a cancel keyed by anything else would land elsewhere for most of them.
    for (let i = 0; i < 4; i += 1) {
      const stream = chat.stream(
        'chat_ai_conversation',
        { name: 'gpt-4o', message: [{ content: 'one two three four five six seven eight' }] },
        { userContext: alice },
      );
      for await (const event of stream) {
        if (event.event === 'message') break;
      }
      stream.cancel();
      cancelled.push(stream.requestId);
    }
    await waitFor('every chat_cancel at the chat service', async () => cancelled.every((id) => fake.cancelled.has(id)));

    const sent = await readTopic(config, cancelled.length * 2);
    for (const id of cancelled) {
      const request = sent.find((m) => m.operation === 'chat_ai_conversation' && m.envelope.request_id === id)!;
      const cancel = sent.find((m) => m.operation === 'chat_cancel' && m.envelope.payload.cancel_request_id === id)!;
      expect(request.key).toBe(id);
      expect(cancel.key).toBe(id);
      expect(cancel.partition).toBe(request.partition);
      // The cancel is a message of its own: its request_id is not the cancelled one.
      expect(cancel.envelope.request_id).not.toBe(id);
    }
  });
});
