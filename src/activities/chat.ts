import { Context } from '@temporalio/activity';
import type { ChatRequestReply } from '../chat/request-reply';
import { HttpError } from '../errors';
import { httpFailure } from '../temporal/http-failure';
import {
  CHAT_DELETE_ALL_OPERATION,
  type ChatDeleteAllResourceInput,
  type ChatDeleteAllResult,
  type ChatUploadBatchInput,
  type ChatUploadResult,
} from '../workflows/chat/contract';

/**
 * Waits for a chat reply while heartbeating, so a worker that dies mid-wait is noticed within the
 * heartbeat timeout and the retry (same request_id) runs elsewhere. A cancellation (also the
 * worker's shutdown once its grace is over) ends the wait at once and the retry runs elsewhere.
 * The chat service's errors become `httpFailure`s; its refusals (4xx) are not retried.
 */
async function awaitChat<T>(call: Promise<T>): Promise<T> {
  const ctx = Context.current();
  const beat = setInterval(() => ctx.heartbeat(), 1_000);
  call.catch(() => undefined);
  try {
    return await Promise.race([call, ctx.cancelled]);
  } catch (err) {
    if (err instanceof HttpError) throw httpFailure(err, { retryable: err.status >= 500 });
    throw err;
  } finally {
    clearInterval(beat);
  }
}

/** Activities of the chat workflows, over the worker's one ChatRequestReply. */
export function createChatActivities(chat: ChatRequestReply) {
  return {
    async chatUploadBatch(input: ChatUploadBatchInput): Promise<ChatUploadResult> {
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

    async chatDeleteAllResource(input: ChatDeleteAllResourceInput): Promise<ChatDeleteAllResult> {
      return awaitChat(
        chat.request(
          CHAT_DELETE_ALL_OPERATION[input.resource],
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
