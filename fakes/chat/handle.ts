import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Type, type TSchema } from '@sinclair/typebox';
import type { UserContext } from '../../src/auth/types';
import { CHAT_OPERATIONS, isChatOperation, type ChatOperation } from '../../src/chat/operations';
import { RequestMetadataSchema, UserContextSchema } from '../../src/chat/schemas';
import { FakeChatError } from './model';
import type { ChatFakeStore } from './store';

export interface Reply {
  status: 'success' | 'error' | 'chunk';
  payload: unknown;
  error: unknown;
  sequence?: number;
}

export function errorReply(error: unknown, sequence?: number): Reply {
  return { status: 'error', payload: null, error, sequence };
}

type Payload = Record<string, unknown> & { user_context: UserContext };
type Apply = (s: ChatFakeStore, u: UserContext, p: Payload) => unknown;

const SETTINGS = {
  items: [
    { name: 'open_registration', value: 'True' },
    { name: 'open_web_search', value: 'False' },
    { name: 'open_frugal_mode_control', value: 'True' },
  ],
};

/** What each single-reply operation does to the store (the AI answer streams: see streamReplies). */
const APPLY = new Map<ChatOperation, Apply>([
  ['chat_get_conversations', (s, u, p) => s.listConversations(u, p as never)],
  ['chat_get_conversation', (s, u, p) => s.getConversation(u, p.conversation_id as number)],
  ['chat_create_conversation', (s, u, p) => s.createConversation(u, p.topic as string)],
  ['chat_update_conversation', (s, u, p) => s.updateConversation(u, p.conversation_id as number, p.topic as string)],
  ['chat_delete_conversation', (s, u, p) => s.deleteConversation(u, p.conversation_id as number)],
  ['chat_delete_all_conversations', (s, u) => s.deleteAllConversations(u)],
  ['chat_get_messages', (s, u, p) => s.listMessages(u, p as never)],
  ['chat_get_message', (s, u, p) => s.getMessage(u, p.message_id as number)],
  ['chat_create_message', (s, u, p) => s.createMessage(u, p as never)],
  ['chat_update_message', (s, u, p) => s.updateMessage(u, p as never)],
  ['chat_delete_message', (s, u, p) => s.deleteMessage(u, p.message_id as number)],
  ['chat_generate_title', (s, u, p) => s.generateTitle(u, p as never)],
  ['chat_upload_conversations', (s, u, p) => s.upload(u, p as never)],
  ['chat_get_prompts', (s, u, p) => s.listPrompts(u, p as never)],
  ['chat_get_prompt', (s, u, p) => s.getPrompt(u, p.prompt_id as number)],
  ['chat_create_prompt', (s, u, p) => s.createPrompt(u, p as never)],
  ['chat_update_prompt', (s, u, p) => s.updatePrompt(u, p as never)],
  ['chat_delete_prompt', (s, u, p) => s.deletePrompt(u, p.prompt_id as number)],
  ['chat_delete_all_prompts', (s, u) => s.deleteAllPrompts(u)],
  ['chat_get_documents', (s, u, p) => s.listDocuments(u, p as never)],
  ['chat_get_document', (s, u, p) => s.getDocument(u, p.document_id as number)],
  ['chat_upload_document', (s, u, p) => s.uploadDocument(u, p as never)],
  ['chat_update_document', (s, u, p) => s.updateDocument(u, p as never)],
  ['chat_delete_document', (s, u, p) => s.deleteDocument(u, p.document_id as number)],
  ['chat_delete_all_documents', (s, u) => s.deleteAllDocuments(u)],
  ['chat_get_settings', () => SETTINGS],
]);

const requestChecks = new Map<ChatOperation, TypeCheck<TSchema>>();
function requestCheck(operation: ChatOperation): TypeCheck<TSchema> {
  let check = requestChecks.get(operation);
  if (!check) {
    const spec = CHAT_OPERATIONS[operation];
    const userContext = spec.anonymous ? Type.Optional(UserContextSchema) : UserContextSchema;
    check = TypeCompiler.Compile(
      Type.Composite([
        spec.payload,
        Type.Object({ user_context: userContext, request_metadata: Type.Optional(RequestMetadataSchema) }),
      ]),
    );
    requestChecks.set(operation, check);
  }
  return check;
}

/** Applies one request to the store; returns the replies to send (several for a stream). */
export function handleRequest(store: ChatFakeStore, operation: string, payload: unknown, padBytes: number): Reply[] {
  if (!isChatOperation(operation)) {
    return [errorReply({ code: 'validation_error', message: `Unknown operation "${operation}"` })];
  }
  const check = requestCheck(operation);
  if (!check.Check(payload)) {
    const first = check.Errors(payload).First();
    const field = first?.path.replace(/^\//, '').replace(/\//g, '.') || 'payload';
    return [errorReply({ code: 'validation_error', message: `${field}: ${first?.message ?? 'is invalid'}` })];
  }
  const p = payload as Payload;
  if (operation === 'chat_ai_conversation') return streamReplies(store, p.user_context, p as never, padBytes);
  const apply = APPLY.get(operation);
  if (!apply) return [errorReply({ code: 'validation_error', message: `Unsupported operation "${operation}"` })];
  try {
    return [{ status: 'success', payload: apply(store, p.user_context, p), error: null }];
  } catch (err) {
    if (err instanceof FakeChatError) return [errorReply({ code: err.code, message: err.message })];
    throw err;
  }
}

/** The AI answer: the user message id, one chunk per token, then `done`, numbered from 0. */
function streamReplies(
  store: ChatFakeStore,
  u: UserContext,
  p: Parameters<ChatFakeStore['aiTurn']>[1],
  padBytes: number,
): Reply[] {
  let turn;
  try {
    turn = store.aiTurn(u, p);
  } catch (err) {
    if (err instanceof FakeChatError) return [errorReply({ code: err.code, message: err.message }, 0)];
    throw err;
  }
  const replies: Reply[] = [
    { status: 'chunk', payload: { event: 'userMessageId', data: { userMessageId: turn.userMessageId } }, error: null },
    ...turn.tokens.map((content): Reply => ({
      status: 'chunk',
      payload: { event: 'message', data: { content: content + '.'.repeat(padBytes) } },
      error: null,
    })),
    {
      status: 'success',
      payload: {
        event: 'done',
        data: { messageId: turn.botMessageId, conversationId: turn.conversationId, newDocId: null },
      },
      error: null,
    },
  ];
  return replies.map((r, sequence) => ({ ...r, sequence }));
}
