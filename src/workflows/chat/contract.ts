/**
 * The chat workflows' contract (chat-upload-conversations, chat-delete-all), shared by the routes,
 * the workflows and their activities: workflow ids, inputs and results. Progress is the shared
 * `progressQuery`. No I/O: the workflows import it.
 */
import type { UserContext } from '../../auth/types';
import type { ConversationImport, RequestMetadata } from '../../chat/schemas';

export type ChatResource = 'conversations' | 'prompts' | 'documents';

/** The chat operation that deletes all of a resource. */
export const CHAT_DELETE_ALL_OPERATION = {
  conversations: 'chat_delete_all_conversations',
  prompts: 'chat_delete_all_prompts',
  documents: 'chat_delete_all_documents',
} as const;

/** `key` is the request's operation key (`operationKey`): a retry with the same Idempotency-Key joins the run. */
export const chatUploadWorkflowId = (userId: string, key: string) => `chat-upload-conversations/${userId}/${key}`;
export const chatDeleteAllWorkflowId = (resource: ChatResource, userId: string, key: string) =>
  `chat-delete-all/${resource}/${userId}/${key}`;

interface ChatWorkflowBase {
  /** Who asked; the token never travels into Temporal. */
  user_context: UserContext;
  request_metadata?: RequestMetadata;
  /** Deadline of one chat request/reply (CHAT_REQUEST_TIMEOUT_MS of the starting gateway). */
  request_timeout_ms: number;
}

export interface ChatUploadInput extends ChatWorkflowBase {
  imports: ConversationImport[];
  batch_size: number;
}

export interface ChatUploadResult {
  conversation_ids: number[];
}

export interface ChatDeleteAllInput extends ChatWorkflowBase {
  resource: ChatResource;
}

export interface ChatDeleteAllResult {
  deleted_count: number;
}

/** One batch of an upload: `batch_id` is the chat request_id, the same on every retry. */
export interface ChatUploadBatchInput {
  batch_id: string;
  imports: ConversationImport[];
  user_context: UserContext;
  request_metadata?: RequestMetadata;
  timeout_ms: number;
}

export interface ChatDeleteAllResourceInput {
  resource: ChatResource;
  /** Deterministic (the workflow id): the same on every retry. */
  request_id: string;
  user_context: UserContext;
  request_metadata?: RequestMetadata;
  timeout_ms: number;
}
