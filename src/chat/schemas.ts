/**
 * The chat protocol's shapes (chat-kafka.md) as TypeBox schemas: the gateway validates replies
 * with them, the fake validates requests with them, the routes answer with them and
 * /asyncapi.json is generated from them, so the four cannot drift apart.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import '../schema-formats';

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** A per-user resource number: the id used in paths, payloads and stream data. */
export const PerUserId = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
/** The global id, for information only (the chat service decides its type). */
export const GlobalId = Type.Union([Type.Integer(), Type.String()]);
export const Timestamp = Type.String({ format: 'date-time', description: 'ISO-8601 UTC' });

export const OrgRole = Type.Union([Type.Literal('owner'), Type.Literal('admin'), Type.Literal('member')]);

export const UserContextSchema = Type.Object(
  {
    sub: Type.String({ minLength: 1, description: 'User id: the key of all chat data' }),
    email: Nullable(Type.String()),
    full_name: Nullable(Type.String()),
    active_org_id: Nullable(Type.String()),
    org_role: Nullable(OrgRole),
  },
  { title: 'UserContext' },
);

export const RequestMetadataSchema = Type.Object(
  {
    source_ip: Type.Optional(Type.String()),
    user_agent: Type.Optional(Type.String()),
    gateway_request_id: Type.Optional(Type.String()),
  },
  { title: 'RequestMetadata' },
);
export type RequestMetadata = Static<typeof RequestMetadataSchema>;

// ---- resources, as the ChatGPT UI server returns them

export const ConversationSchema = Type.Object(
  {
    id: GlobalId,
    conversation_id: PerUserId,
    topic: Type.String(),
    org_id: Nullable(Type.String()),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { title: 'Conversation' },
);
export type Conversation = Static<typeof ConversationSchema>;

export const MessageSchema = Type.Object(
  {
    id: GlobalId,
    message_id: PerUserId,
    conversation: PerUserId,
    message: Type.String(),
    is_bot: Type.Boolean(),
    message_type: Type.Integer(),
    embedding_message_doc: Nullable(PerUserId),
    messages: Type.String({ description: 'The context messages sent to the model, as a JSON string' }),
    tokens: Type.Integer(),
    created_at: Timestamp,
  },
  { title: 'Message' },
);
export type Message = Static<typeof MessageSchema>;

export const PromptSchema = Type.Object(
  { id: GlobalId, prompt_id: PerUserId, title: Type.String(), content: Type.String(), created_at: Timestamp },
  { title: 'Prompt' },
);
export type Prompt = Static<typeof PromptSchema>;

export const DocumentSchema = Type.Object(
  {
    id: GlobalId,
    document_id: PerUserId,
    title: Type.String(),
    org_id: Nullable(Type.String()),
    created_at: Timestamp,
  },
  { title: 'Document' },
);
export type ChatDocument = Static<typeof DocumentSchema>;

export const SettingSchema = Type.Object({ name: Type.String(), value: Type.String() }, { title: 'Setting' });

// ---- request payload fields (user_context and request_metadata are added by ChatRequestReply)

export const ListQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
};

export const MessageFields = {
  is_bot: Type.Optional(Type.Boolean()),
  message_type: Type.Optional(Type.Integer()),
  messages: Type.Optional(Type.String()),
  tokens: Type.Optional(Type.Integer({ minimum: 0 })),
  embedding_message_doc: Type.Optional(Nullable(PerUserId)),
};

export const AiMessageSchema = Type.Object({
  content: Type.String(),
  message_type: Type.Optional(Type.Integer()),
  tool: Type.Optional(Type.String()),
  tool_args: Type.Optional(Type.Unknown()),
  embedding_message_doc: Type.Optional(Nullable(PerUserId)),
});

export const AiOptions = {
  max_tokens: Type.Optional(Type.Integer({ minimum: 1 })),
  system_content: Type.Optional(Type.String()),
  temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2 })),
  top_p: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  frequency_penalty: Type.Optional(Type.Number({ minimum: -2, maximum: 2 })),
  presence_penalty: Type.Optional(Type.Number({ minimum: -2, maximum: 2 })),
  web_search: Type.Optional(Type.Unknown({ description: 'Web search options, passed through' })),
};

export const ImportSchema = Type.Object(
  {
    conversation_topic: Type.String({ maxLength: 1000 }),
    messages: Type.Array(
      Type.Object({
        role: Type.Union([Type.Literal('user'), Type.Literal('assistant')]),
        content: Type.String(),
      }),
    ),
  },
  { title: 'ConversationImport' },
);
export type ConversationImport = Static<typeof ImportSchema>;

/** `data:<mime>;base64,<data>`, checked by the linear `data-url` format (src/chat/data-url.ts). */
export const DataUrl = Type.String({ format: 'data-url', description: 'data:<mime>;base64,<data>' });

// ---- replies

export const ListOf = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), total_count: Type.Integer({ minimum: 0 }) });
export const Deleted = Type.Object({ deleted: Type.Literal(true) });
export const DeletedCount = Type.Object({ deleted_count: Type.Integer({ minimum: 0 }) });
export const GeneratedTitle = Type.Object({ title: Type.String(), conversation_id: PerUserId });
export const UploadResult = Type.Object({ conversation_ids: Type.Array(PerUserId) });
export const Settings = Type.Object({ items: Type.Array(SettingSchema) });

/** Stream chunk payloads, then the final `done` payload. */
export const StreamChunkPayload = Type.Union(
  [
    Type.Object({ event: Type.Literal('userMessageId'), data: Type.Object({ userMessageId: PerUserId }) }),
    Type.Object({ event: Type.Literal('message'), data: Type.Object({ content: Type.String() }) }),
  ],
  { title: 'StreamChunkPayload' },
);
export const StreamDonePayload = Type.Object(
  {
    event: Type.Literal('done'),
    data: Type.Object({ messageId: PerUserId, conversationId: PerUserId, newDocId: Nullable(PerUserId) }),
  },
  { title: 'StreamDonePayload' },
);

export const ChatErrorCode = Type.Union([
  Type.Literal('not_found'),
  Type.Literal('validation_error'),
  Type.Literal('forbidden'),
  Type.Literal('conflict'),
  Type.Literal('unavailable'),
  Type.Literal('internal'),
]);
export type ChatErrorCode = Static<typeof ChatErrorCode>;

export const ChatErrorSchema = Type.Union(
  [
    Type.Object({
      code: Type.String({ description: 'not_found, validation_error, forbidden, conflict, unavailable, internal' }),
      message: Type.String(),
    }),
    Type.String({ description: 'Older chat servers: a plain string ("… not found …" → 404)' }),
  ],
  { title: 'ChatError' },
);

// ---- envelopes

export const RequestHeadersSchema = Type.Object(
  { request_id: Type.String(), operation: Type.String(), reply_to: Type.String() },
  { title: 'ChatRequestHeaders' },
);

export function requestEnvelope<T extends TSchema>(operation: string, payload: T) {
  return Type.Object({
    message_id: Type.String({ description: 'New for every send' }),
    request_id: Type.String({ description: 'The same on every retry of one logical request' }),
    operation: Type.Literal(operation),
    timestamp: Timestamp,
    reply_to: Type.String({ description: 'Topic the reply goes to' }),
    deadline: Timestamp,
    payload,
  });
}

/** What the gateway accepts on the reply topic; anything else is counted as malformed and dropped. */
export const ReplyEnvelopeSchema = Type.Object(
  {
    message_id: Type.Optional(Type.String()),
    request_id: Type.String({ minLength: 1 }),
    operation: Type.Optional(Type.String()),
    timestamp: Type.Optional(Type.String()),
    status: Type.Union([Type.Literal('success'), Type.Literal('error'), Type.Literal('chunk')]),
    sequence: Type.Optional(Type.Integer({ minimum: 0 })),
    payload: Type.Optional(Type.Unknown()),
    error: Type.Optional(Nullable(ChatErrorSchema)),
  },
  { title: 'ChatReply' },
);
export type ReplyEnvelope = Static<typeof ReplyEnvelopeSchema>;

export function replyEnvelope<T extends TSchema>(operation: string, status: 'success' | 'chunk' | 'error', payload: T) {
  return Type.Object({
    message_id: Type.String(),
    request_id: Type.String(),
    operation: Type.Literal(`${operation}_response`),
    timestamp: Timestamp,
    status: Type.Literal(status),
    ...(status === 'success' ? {} : { sequence: Type.Optional(Type.Integer({ minimum: 0 })) }),
    payload: status === 'error' ? Type.Null() : payload,
    error: status === 'error' ? ChatErrorSchema : Type.Null(),
  });
}

/** The chat service's own audit events (chat-service-events); the gateway does not rely on their shape. */
export const ChatServiceEventSchema = Type.Object(
  {
    event_id: Type.String(),
    event_type: Type.String(),
    timestamp: Timestamp,
    user_id: Type.Optional(Nullable(Type.String())),
    request_id: Type.Optional(Type.String()),
    data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { title: 'ChatServiceEvent', additionalProperties: true },
);
