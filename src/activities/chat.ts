import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { UserContext } from '../auth/types';
import type { ChatRequestReply } from '../chat/request-reply';
import type { ConversationImport, RequestMetadata } from '../chat/schemas';
import { HttpError } from '../errors';
import type { ChatResource } from '../workflows/chat';

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

const DELETE_ALL = {
  conversations: 'chat_delete_all_conversations',
  prompts: 'chat_delete_all_prompts',
  documents: 'chat_delete_all_documents',
} as const;

/**
 * Waits for a chat reply while heartbeating, so a worker that dies mid-wait is noticed within the
 * heartbeat timeout and the retry (same request_id) runs elsewhere. A cancellation (also the
 * worker's shutdown once its grace is over) ends the wait at once and the retry runs elsewhere.
 * HttpErrors become ApplicationFailures typed with the error code; 4xx are not retried.
 */
async function awaitChat<T>(call: Promise<T>): Promise<T> {
  const ctx = Context.current();
  const beat = setInterval(() => ctx.heartbeat(), 1_000);
  call.catch(() => undefined);
  try {
    return await Promise.race([call, ctx.cancelled]);
  } catch (err) {
    if (err instanceof HttpError) {
      throw ApplicationFailure.create({ type: err.code, message: err.detail, nonRetryable: err.status < 500 });
    }
    throw err;
  } finally {
    clearInterval(beat);
  }
}

/** Chat activities over the worker's one ChatRequestReply. */
export function createChatActivities(chat: ChatRequestReply) {
  return {
    async chatUploadBatch(input: ChatUploadBatchInput): Promise<{ conversation_ids: number[] }> {
      return awaitChat(
        chat.request(
          'chat_upload_conversations',
          { batch_id: input.batch_id, imports: input.imports },
          {
            requestId: input.batch_id,
            userContext: input.user_context,
            requestMetadata: input.request_metadata,
            timeoutMs: input.timeout_ms,
          },
        ),
      );
    },

    async chatDeleteAllResource(input: ChatDeleteAllResourceInput): Promise<{ deleted_count: number }> {
      return awaitChat(
        chat.request(
          DELETE_ALL[input.resource],
          {},
          {
            requestId: input.request_id,
            userContext: input.user_context,
            requestMetadata: input.request_metadata,
            timeoutMs: input.timeout_ms,
          },
        ),
      );
    },
  };
}
