/**
 * Every chat operation (chat-kafka.md): its topic, the payload it takes and the reply it gets.
 * ChatRequestReply picks topics from here, the fake validates requests against it and
 * /asyncapi.json is generated from it.
 */
import { Type, type Static, type TObject, type TSchema } from '@sinclair/typebox';
import type { Config } from '../config';
import {
  AiMessageSchema,
  AiOptions,
  ConversationSchema,
  DataUrl,
  Deleted,
  DeletedCount,
  DocumentSchema,
  GeneratedTitle,
  ImportSchema,
  ListOf,
  ListQuery,
  MessageFields,
  MessageSchema,
  PerUserId,
  PromptSchema,
  Settings,
  StreamDonePayload,
  UploadResult,
} from './schemas';

export type ChatTopicKey =
  | 'CHAT_UI_CONVERSATIONS_TOPIC'
  | 'CHAT_UI_MESSAGES_TOPIC'
  | 'CHAT_UI_AI_CONVERSATION_TOPIC'
  | 'CHAT_UI_GEN_TITLE_TOPIC'
  | 'CHAT_UI_UPLOAD_CONVERSATIONS_TOPIC'
  | 'CHAT_UI_PROMPTS_TOPIC'
  | 'CHAT_UI_DOCUMENTS_TOPIC'
  | 'CHAT_UI_SETTINGS_TOPIC';

export const CHAT_REQUEST_TOPICS: ChatTopicKey[] = [
  'CHAT_UI_CONVERSATIONS_TOPIC',
  'CHAT_UI_MESSAGES_TOPIC',
  'CHAT_UI_AI_CONVERSATION_TOPIC',
  'CHAT_UI_GEN_TITLE_TOPIC',
  'CHAT_UI_UPLOAD_CONVERSATIONS_TOPIC',
  'CHAT_UI_PROMPTS_TOPIC',
  'CHAT_UI_DOCUMENTS_TOPIC',
  'CHAT_UI_SETTINGS_TOPIC',
];

/** `reply`: one answer; `stream`: chunks then done/error; `none`: never answered. */
export type ReplyKind = 'reply' | 'stream' | 'none';

export interface OperationSpec<P extends TObject = TObject, R extends TSchema = TSchema> {
  topic: ChatTopicKey;
  payload: P;
  reply: R;
  kind: ReplyKind;
  summary: string;
  /** Settings need no user. */
  anonymous?: boolean;
}

const op = <P extends TObject, R extends TSchema>(
  topic: ChatTopicKey,
  payload: P,
  reply: R,
  summary: string,
  extra: { kind?: ReplyKind; anonymous?: boolean } = {},
): OperationSpec<P, R> => ({ topic, payload, reply, summary, kind: extra.kind ?? 'reply', anonymous: extra.anonymous });

const C = 'CHAT_UI_CONVERSATIONS_TOPIC';
const M = 'CHAT_UI_MESSAGES_TOPIC';
const P = 'CHAT_UI_PROMPTS_TOPIC';
const D = 'CHAT_UI_DOCUMENTS_TOPIC';
const Empty = Type.Object({});

export const CHAT_OPERATIONS = {
  chat_get_conversations: op(C, Type.Object({ ...ListQuery }), ListOf(ConversationSchema), 'List conversations'),
  chat_get_conversation: op(C, Type.Object({ conversation_id: PerUserId }), ConversationSchema, 'Get a conversation'),
  chat_create_conversation: op(
    C,
    Type.Object({ topic: Type.String({ minLength: 1 }) }),
    ConversationSchema,
    'Create a conversation',
  ),
  chat_update_conversation: op(
    C,
    Type.Object({ conversation_id: PerUserId, topic: Type.String({ minLength: 1 }) }),
    ConversationSchema,
    'Rename a conversation',
  ),
  chat_delete_conversation: op(
    C,
    Type.Object({ conversation_id: PerUserId }),
    Deleted,
    'Delete a conversation and its messages',
  ),
  chat_delete_all_conversations: op(C, Empty, DeletedCount, "Delete all of the user's conversations"),

  chat_get_messages: op(
    M,
    Type.Object({ conversation_id: Type.Optional(PerUserId), ...ListQuery }),
    ListOf(MessageSchema),
    'List messages, optionally of one conversation',
  ),
  chat_get_message: op(M, Type.Object({ message_id: PerUserId }), MessageSchema, 'Get a message'),
  chat_create_message: op(
    M,
    Type.Object({ conversation_id: PerUserId, message: Type.String(), ...MessageFields }),
    MessageSchema,
    'Create a message',
  ),
  chat_update_message: op(
    M,
    Type.Object({ message_id: PerUserId, message: Type.Optional(Type.String()), ...MessageFields }),
    MessageSchema,
    'Update a message',
  ),
  chat_delete_message: op(M, Type.Object({ message_id: PerUserId }), Deleted, 'Delete a message'),

  chat_ai_conversation: op(
    'CHAT_UI_AI_CONVERSATION_TOPIC',
    Type.Object({
      name: Type.String(),
      message: Type.Array(AiMessageSchema, { minItems: 1 }),
      conversation_id: Type.Optional(PerUserId),
      frugal_mode: Type.Optional(Type.Boolean()),
      ...AiOptions,
    }),
    StreamDonePayload,
    'Ask the model; the answer is streamed as chunks (userMessageId, message…) then done',
    { kind: 'stream' },
  ),
  chat_cancel: op(
    'CHAT_UI_AI_CONVERSATION_TOPIC',
    Type.Object({ cancel_request_id: Type.String({ minLength: 1 }) }),
    Type.Null(),
    'Stop a running AI answer (the client went away); never answered',
    { kind: 'none' },
  ),

  chat_generate_title: op(
    'CHAT_UI_GEN_TITLE_TOPIC',
    Type.Object({ conversation_id: PerUserId, prompt: Type.Optional(Type.String()) }),
    GeneratedTitle,
    'Generate a conversation title',
  ),

  chat_upload_conversations: op(
    'CHAT_UI_UPLOAD_CONVERSATIONS_TOPIC',
    Type.Object({ batch_id: Type.String({ minLength: 1 }), imports: Type.Array(ImportSchema) }),
    UploadResult,
    'Import a batch of conversations; a repeated batch_id returns the first result',
  ),

  chat_get_prompts: op(P, Type.Object({ ...ListQuery }), ListOf(PromptSchema), 'List prompts'),
  chat_get_prompt: op(P, Type.Object({ prompt_id: PerUserId }), PromptSchema, 'Get a prompt'),
  chat_create_prompt: op(
    P,
    Type.Object({ title: Type.String({ minLength: 1 }), content: Type.String() }),
    PromptSchema,
    'Create a prompt',
  ),
  chat_update_prompt: op(
    P,
    Type.Object({
      prompt_id: PerUserId,
      title: Type.Optional(Type.String({ minLength: 1 })),
      content: Type.Optional(Type.String()),
    }),
    PromptSchema,
    'Update a prompt',
  ),
  chat_delete_prompt: op(P, Type.Object({ prompt_id: PerUserId }), Deleted, 'Delete a prompt'),
  chat_delete_all_prompts: op(P, Empty, DeletedCount, "Delete all of the user's prompts"),

  chat_get_documents: op(D, Type.Object({ ...ListQuery }), ListOf(DocumentSchema), 'List embedding documents'),
  chat_get_document: op(D, Type.Object({ document_id: PerUserId }), DocumentSchema, 'Get a document'),
  chat_upload_document: op(
    D,
    Type.Object({ title: Type.String({ minLength: 1 }), file: DataUrl }),
    DocumentSchema,
    'Upload a document (data URL)',
  ),
  chat_update_document: op(
    D,
    Type.Object({ document_id: PerUserId, title: Type.String({ minLength: 1 }) }),
    DocumentSchema,
    'Rename a document',
  ),
  chat_delete_document: op(D, Type.Object({ document_id: PerUserId }), Deleted, 'Delete a document'),
  chat_delete_all_documents: op(D, Empty, DeletedCount, "Delete all of the user's documents"),

  chat_get_settings: op('CHAT_UI_SETTINGS_TOPIC', Empty, Settings, 'Public chat settings', { anonymous: true }),
} as const;

export type ChatOperations = typeof CHAT_OPERATIONS;
export type ChatOperation = keyof ChatOperations;
export type PayloadOf<O extends ChatOperation> = Static<ChatOperations[O]['payload']>;
export type ReplyOf<O extends ChatOperation> = Static<ChatOperations[O]['reply']>;

export const isChatOperation = (name: string): name is ChatOperation => Object.hasOwn(CHAT_OPERATIONS, name);

export function topicOf(config: Config, operation: ChatOperation): string {
  return config[CHAT_OPERATIONS[operation].topic];
}

/** Every topic the chat protocol uses, by config key. */
export function chatTopics(config: Config) {
  return {
    requests: Object.fromEntries(CHAT_REQUEST_TOPICS.map((k) => [k, config[k]])) as Record<ChatTopicKey, string>,
    responses: config.CHAT_SERVICE_RESPONSES_TOPIC,
    events: config.CHAT_SERVICE_EVENTS_TOPIC,
  };
}
