import { Parser } from '@asyncapi/parser';
import { CHAT_OPERATIONS } from '../../src/chat/operations';
import { ReplyEnvelopeSchema } from '../../src/chat/schemas';
import { ENVELOPE_FIELDS } from '../support/events';
import { call, startGateway, type RunningGateway } from '../support/gateway';
import { testConfig } from '../support/stack';

jest.setTimeout(60_000);

/** Every topic of chat-kafka.md, by its default name. */
const CONTRACT_TOPICS = [
  'chat-ui-conversations',
  'chat-ui-messages',
  'chat-ui-ai-conversation',
  'chat-ui-gen-title',
  'chat-ui-upload-conversations',
  'chat-ui-prompts',
  'chat-ui-documents',
  'chat-ui-settings',
  'chat-service-responses',
  'chat-service-events',
];

/** The domain-event topics of events.md. */
const EVENT_TOPICS = ['auth-events', 'user-events', 'organization-events'];

const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

describe('GET /asyncapi.json', () => {
  let gw: RunningGateway;
  let doc: any;

  beforeAll(async () => {
    gw = await startGateway(testConfig());
    const res = await call(gw.app, 'GET', '/asyncapi.json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    doc = res.body;
  });

  afterAll(async () => {
    await gw?.close();
  });

  it('is a valid AsyncAPI 3 document', async () => {
    const parser = new Parser();
    const { document, diagnostics } = await parser.parse(doc);
    const errors = diagnostics.filter((d) => Number(d.severity) === 0);
    expect(errors.map((d) => `${d.path.join('.')}: ${d.message}`)).toEqual([]);
    expect(document).toBeDefined();
    expect(document!.version()).toMatch(/^3\./);
  });

  it('lists every topic of chat-kafka.md', async () => {
    const { document } = await new Parser().parse(doc);
    const addresses = document!
      .channels()
      .all()
      .map((c) => c.address());
    expect([...addresses].sort()).toEqual([...CONTRACT_TOPICS, ...EVENT_TOPICS].sort());
  });

  it('has a message for every operation, its reply and the stream chunks', () => {
    for (const [name, spec] of Object.entries(CHAT_OPERATIONS)) {
      expect(doc.operations[name]).toMatchObject({ action: 'send' });
      expect(doc.components.messages[name]).toBeDefined();
      if (spec.kind !== 'none') expect(doc.components.messages[`${name}_response`]).toBeDefined();
      else expect(doc.operations[name].reply).toBeUndefined();
    }
    expect(doc.components.messages.chat_ai_conversation_chunk).toBeDefined();
    expect(doc.components.messages.chat_error_response).toBeDefined();
    expect(doc.channels.chatServiceResponses.messages.chat_ai_conversation_chunk).toBeDefined();
  });

  it('lists what the gateway receives: the responses and the chat service events', async () => {
    const { document } = await new Parser().parse(doc);
    const receive = document!
      .operations()
      .all()
      .filter((o) => o.action() === 'receive')
      .map((o) => ({ topic: o.channels().all()[0]!.address(), messages: o.messages().all().length }));
    expect(receive).toEqual(
      expect.arrayContaining([
        { topic: 'chat-service-responses', messages: Object.keys(doc.channels.chatServiceResponses.messages).length },
        { topic: 'chat-service-events', messages: 1 },
      ]),
    );
    expect(doc.operations.receiveChatServiceResponses.messages).toContainEqual({
      $ref: '#/channels/chatServiceResponses/messages/chat_ai_conversation_chunk',
    });
  });

  it('is generated from the schemas the code validates with', () => {
    const create = doc.components.messages.chat_create_conversation.payload;
    expect(create.properties.payload.properties.topic).toEqual(
      plain(CHAT_OPERATIONS.chat_create_conversation.payload.properties.topic),
    );
    expect(create.properties.payload.required).toEqual(expect.arrayContaining(['topic', 'user_context']));
    expect(create.required).toEqual(
      expect.arrayContaining(['message_id', 'request_id', 'operation', 'timestamp', 'reply_to', 'deadline', 'payload']),
    );
    const reply = doc.components.messages.chat_get_conversations_response.payload;
    expect(reply.properties.payload).toEqual(plain(CHAT_OPERATIONS.chat_get_conversations.reply));
    expect(reply.properties.status).toEqual({ const: 'success', type: 'string' });
    // The envelope the gateway accepts, minus `sequence` (streams only).
    expect(Object.keys(reply.properties).sort()).toEqual(
      Object.keys(ReplyEnvelopeSchema.properties)
        .filter((k) => k !== 'sequence')
        .sort(),
    );
    expect(doc.components.messages.chat_get_conversation.headers.required).toEqual([
      'request_id',
      'operation',
      'reply_to',
    ]);
  });
});

describe('GET /asyncapi.json: domain events', () => {
  it('documents every event type of events.md on its topic, with the envelope that buildEvent validates', async () => {
    const gw = await startGateway(testConfig());
    try {
      const doc = (await call(gw.app, 'GET', '/asyncapi.json')).body;
      const { EVENT_CATALOG, EVENT_TYPES } = await import('../../src/events/catalog');
      const channelOf: Record<string, string> = {
        KAFKA_AUTH_EVENTS_TOPIC: 'authEvents',
        KAFKA_USER_EVENTS_TOPIC: 'userEvents',
        KAFKA_ORGANIZATION_EVENTS_TOPIC: 'organizationEvents',
      };
      expect(EVENT_TYPES).toHaveLength(15);
      for (const t of EVENT_TYPES) {
        const channel = doc.channels[channelOf[EVENT_CATALOG[t].topic]!];
        expect(channel.messages[t]).toEqual({ $ref: `#/components/messages/${t}` });
        const payload = doc.components.messages[t].payload;
        expect(payload.properties.event_type.const).toBe(t);
        expect(payload.required).toEqual(expect.arrayContaining([...ENVELOPE_FIELDS]));
      }
      expect(Object.keys(doc.components.messages.user_invited.payload.properties.data.properties)).toEqual(
        expect.arrayContaining(['org_id', 'invite_id', 'email', 'role', 'invited_by', 'invite_token', 'expires_at']),
      );
    } finally {
      await gw.close();
    }
  });
});
