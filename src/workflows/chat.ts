import { defineQuery, proxyActivities, setHandler, upsertMemo, workflowInfo } from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/workflow';
import type { GatewayActivities } from '../activities';
import type { UserContext } from '../auth/types';
import type { ConversationImport, RequestMetadata } from '../chat/schemas';
import type { OperationProgress } from '../temporal/operations';

/** `{done, total}` of a countable operation; the name is PROGRESS_QUERY of src/temporal/operations.ts. */
export const progressQuery = defineQuery<OperationProgress>('progress');

export type ChatResource = 'conversations' | 'prompts' | 'documents';

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

export interface ChatDeleteAllInput extends ChatWorkflowBase {
  resource: ChatResource;
}

/** Errors a retry cannot fix: the chat service said no. */
const NON_RETRYABLE = ['not_found', 'validation_error', 'forbidden', 'conflict', 'payload_too_large', 'bad_request'];

function chatActivities(timeoutMs: number) {
  const options: ActivityOptions = {
    // Waiting for the reply is bounded by the request deadline; the heartbeat notices a dead worker sooner.
    startToCloseTimeout: timeoutMs + 10_000,
    heartbeatTimeout: '5s',
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '30s',
      nonRetryableErrorTypes: NON_RETRYABLE,
    },
  };
  return proxyActivities<GatewayActivities>(options);
}

/**
 * Imports conversations in batches. Each batch has a `batch_id` derived from the workflow id and
 * its index, and its activity reuses it as request_id on every retry, so the chat service imports
 * each batch once however often the worker dies. Returns every created conversation number.
 */
export async function chatUploadConversations(input: ChatUploadInput): Promise<{ conversation_ids: number[] }> {
  const { chatUploadBatch } = chatActivities(input.request_timeout_ms);
  const { workflowId } = workflowInfo();
  const size = Math.max(1, input.batch_size);
  const progress: OperationProgress = { done: 0, total: input.imports.length };
  setHandler(progressQuery, () => progress);

  const conversationIds: number[] = [];
  for (let index = 0, start = 0; start < input.imports.length; index += 1, start += size) {
    const batch = input.imports.slice(start, start + size);
    const result = await chatUploadBatch({
      batch_id: `${workflowId}/batch-${index}`,
      imports: batch,
      user_context: input.user_context,
      request_metadata: input.request_metadata,
      timeout_ms: input.request_timeout_ms,
    });
    conversationIds.push(...result.conversation_ids);
    progress.done += batch.length;
    upsertMemo({ progress: { ...progress }, updated_at: new Date().toISOString() });
  }
  return { conversation_ids: conversationIds };
}

/** Deletes all of a user's conversations, prompts or documents, retrying until the chat service answers. */
export async function chatDeleteAll(input: ChatDeleteAllInput): Promise<{ deleted_count: number }> {
  const { chatDeleteAllResource } = chatActivities(input.request_timeout_ms);
  return chatDeleteAllResource({
    resource: input.resource,
    request_id: workflowInfo().workflowId,
    user_context: input.user_context,
    request_metadata: input.request_metadata,
    timeout_ms: input.request_timeout_ms,
  });
}
