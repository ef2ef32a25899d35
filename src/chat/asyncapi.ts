/**
 * The AsyncAPI 3 document of the chat protocol, generated from the TypeBox schemas the code
 * validates with (operations.ts, schemas.ts): every topic, every request, reply and chunk.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import type { Config } from '../config';
import { CHAT_OPERATIONS, CHAT_REQUEST_TOPICS, type ChatOperation, type ChatTopicKey } from './operations';
import {
  ChatErrorSchema,
  ChatServiceEventSchema,
  RequestHeadersSchema,
  RequestMetadataSchema,
  StreamChunkPayload,
  UserContextSchema,
  replyEnvelope,
  requestEnvelope,
} from './schemas';

type Json = Record<string, unknown>;

/** Plain JSON Schema (TypeBox keeps its bookkeeping in symbol keys). */
const json = (schema: TSchema): Json => JSON.parse(JSON.stringify(schema)) as Json;

const CHANNEL_IDS: Record<ChatTopicKey, string> = {
  CHAT_UI_CONVERSATIONS_TOPIC: 'chatUiConversations',
  CHAT_UI_MESSAGES_TOPIC: 'chatUiMessages',
  CHAT_UI_AI_CONVERSATION_TOPIC: 'chatUiAiConversation',
  CHAT_UI_GEN_TITLE_TOPIC: 'chatUiGenTitle',
  CHAT_UI_UPLOAD_CONVERSATIONS_TOPIC: 'chatUiUploadConversations',
  CHAT_UI_PROMPTS_TOPIC: 'chatUiPrompts',
  CHAT_UI_DOCUMENTS_TOPIC: 'chatUiDocuments',
  CHAT_UI_SETTINGS_TOPIC: 'chatUiSettings',
};
const RESPONSES = 'chatServiceResponses';
const EVENTS = 'chatServiceEvents';

const kafkaKey = (description: string) => ({
  kafka: { key: { type: 'string', description }, bindingVersion: '0.5.0' },
});

function requestMessage(operation: ChatOperation): Json {
  const spec = CHAT_OPERATIONS[operation];
  const payload = Type.Composite([
    spec.payload,
    Type.Object({
      user_context: spec.anonymous ? Type.Optional(UserContextSchema) : UserContextSchema,
      request_metadata: Type.Optional(RequestMetadataSchema),
    }),
  ]);
  return {
    name: operation,
    title: operation,
    summary: spec.summary,
    contentType: 'application/json',
    headers: json(RequestHeadersSchema),
    payload: json(requestEnvelope(operation, payload)),
    // A cancel travels on the cancelled request's key (its partition), so it cannot overtake it.
    bindings: kafkaKey(operation === 'chat_cancel' ? 'cancel_request_id (the cancelled request)' : 'request_id'),
  };
}

function replyMessage(name: string, summary: string, payload: TSchema): Json {
  return {
    name,
    title: name,
    summary,
    contentType: 'application/json',
    payload: json(payload),
    bindings: kafkaKey('request_id of the request'),
  };
}

const errorReply = Type.Object({
  message_id: Type.String(),
  request_id: Type.String(),
  operation: Type.String({ description: '<operation>_response' }),
  timestamp: Type.String({ format: 'date-time' }),
  status: Type.Literal('error'),
  sequence: Type.Optional(Type.Integer({ minimum: 0, description: 'streams: the next sequence number' })),
  payload: Type.Null(),
  error: ChatErrorSchema,
});

/** One channel per request topic, with the request messages of its operations. */
function requestChannels(config: Config, operations: ChatOperation[]): { channels: Json; messages: Json } {
  const channels: Json = {};
  const messages: Json = {};
  for (const key of CHAT_REQUEST_TOPICS) {
    const id = CHANNEL_IDS[key];
    const own = operations.filter((o) => CHAT_OPERATIONS[o].topic === key);
    channels[id] = {
      address: config[key],
      title: key,
      description: `Gateway → chat service (env ${key}). Key = request_id; headers request_id, operation, reply_to.`,
      messages: Object.fromEntries(own.map((o) => [o, { $ref: `#/components/messages/${o}` }])),
    };
    for (const o of own) messages[o] = requestMessage(o);
  }
  return { channels, messages };
}

/** Every reply, chunk and the error reply: the messages, and the responses channel's references to them. */
function replyMessages(operations: ChatOperation[]): { messages: Json; refs: Json } {
  const refs: Json = { chat_error_response: { $ref: '#/components/messages/chat_error_response' } };
  const messages: Json = {};
  messages.chat_error_response = replyMessage(
    'chat_error_response',
    'Any operation failed: error {code, message} (or an old-style string)',
    errorReply,
  );
  for (const o of operations) {
    const spec = CHAT_OPERATIONS[o];
    if (spec.kind === 'none') continue;
    if (spec.kind === 'stream') {
      messages[`${o}_chunk`] = replyMessage(
        `${o}_chunk`,
        'One stream chunk (status chunk, sequence 0, 1, 2 …): userMessageId first, then message pieces',
        replyEnvelope(o, 'chunk', StreamChunkPayload),
      );
      refs[`${o}_chunk`] = { $ref: `#/components/messages/${o}_chunk` };
    }
    messages[`${o}_response`] = replyMessage(
      `${o}_response`,
      spec.kind === 'stream' ? 'The end of the stream (status success, event done)' : `Reply to ${o}`,
      spec.kind === 'stream'
        ? Type.Composite([
            replyEnvelope(o, 'success', spec.reply),
            Type.Object({ sequence: Type.Integer({ minimum: 0 }) }),
          ])
        : replyEnvelope(o, 'success', spec.reply),
    );
    refs[`${o}_response`] = { $ref: `#/components/messages/${o}_response` };
  }
  return { messages, refs };
}

/** What the gateway sends (each operation, with its replies) and what it consumes. */
function operationsOf(operations: ChatOperation[], responseRefs: Json): Json {
  const ops: Json = {};
  for (const o of operations) {
    const spec = CHAT_OPERATIONS[o];
    const channel = CHANNEL_IDS[spec.topic];
    const op: Json = {
      action: 'send',
      channel: { $ref: `#/channels/${channel}` },
      summary: spec.summary,
      messages: [{ $ref: `#/channels/${channel}/messages/${o}` }],
    };
    if (spec.kind !== 'none') {
      op.reply = {
        channel: { $ref: `#/channels/${RESPONSES}` },
        messages: [
          ...(spec.kind === 'stream' ? [{ $ref: `#/channels/${RESPONSES}/messages/${o}_chunk` }] : []),
          { $ref: `#/channels/${RESPONSES}/messages/${o}_response` },
          { $ref: `#/channels/${RESPONSES}/messages/chat_error_response` },
        ],
      };
    }
    ops[o] = op;
  }
  // What the gateway consumes: every reply and chunk (each instance keeps those of its own requests).
  ops.receiveChatServiceResponses = {
    action: 'receive',
    channel: { $ref: `#/channels/${RESPONSES}` },
    summary: 'Replies and stream chunks; each gateway replica and worker reads them all and keeps its own',
    messages: Object.keys(responseRefs).map((m) => ({ $ref: `#/channels/${RESPONSES}/messages/${m}` })),
  };
  ops.receiveChatServiceEvents = {
    action: 'receive',
    channel: { $ref: `#/channels/${EVENTS}` },
    summary: 'Audit events of the chat service (optional, e.g. for metrics)',
    messages: [{ $ref: `#/channels/${EVENTS}/messages/chat_service_event` }],
  };
  return ops;
}

/** The whole document; `brokers` and topic names are the configured ones. */
export function buildChatAsyncApi(config: Config, version = '0.1.0'): Json {
  const operations = Object.keys(CHAT_OPERATIONS) as ChatOperation[];
  const requests = requestChannels(config, operations);
  const replies = replyMessages(operations);
  const channels: Json = {
    ...requests.channels,
    [RESPONSES]: {
      address: config.CHAT_SERVICE_RESPONSES_TOPIC,
      title: 'CHAT_SERVICE_RESPONSES_TOPIC',
      description:
        'Chat service → gateway: every reply and stream chunk. Every gateway replica and worker reads all of it ' +
        '(own consumer group, from the latest offset) and keeps the replies to its own pending request ids.',
      messages: replies.refs,
    },
    [EVENTS]: {
      address: config.CHAT_SERVICE_EVENTS_TOPIC,
      title: 'CHAT_SERVICE_EVENTS_TOPIC',
      description: "The chat service's own audit events; the gateway does not depend on them.",
      messages: { chat_service_event: { $ref: '#/components/messages/chat_service_event' } },
    },
  };
  const messages: Json = {
    ...requests.messages,
    ...replies.messages,
    chat_service_event: replyMessage(
      'chat_service_event',
      'An audit event of the chat service',
      ChatServiceEventSchema,
    ),
  };

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Durable API gateway — chat protocol over Kafka',
      version,
      description:
        'Request/reply and streams between the gateway and the chat service. Requests carry a request_id ' +
        "(the same on every retry), a deadline and the caller's user_context; replies and chunks come back on " +
        'the responses topic keyed by request_id. Error codes map to HTTP: not_found 404, validation_error 422, ' +
        'forbidden 403, conflict 409, unavailable 503, internal 502; no reply before the deadline 504.',
    },
    defaultContentType: 'application/json',
    servers: {
      chat: {
        host: config.CHAT_SERVICE_KAFKA_BOOTSTRAP_SERVERS.join(','),
        protocol: 'kafka',
        description: 'CHAT_SERVICE_KAFKA_BOOTSTRAP_SERVERS',
      },
    },
    channels,
    operations: operationsOf(operations, replies.refs),
    components: { messages },
  };
}
