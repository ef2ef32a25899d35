import { proxyActivities, setHandler, upsertMemo, workflowInfo } from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/workflow';
import type { GatewayActivities } from '../../activities';
import { progressQuery, type OperationProgress } from '../shared/progress';
import type { ChatDeleteAllInput, ChatDeleteAllResult, ChatUploadInput, ChatUploadResult } from './contract';

/** A refusal of the chat service is a non-retryable failure (see activities/chat.ts); the rest is retried. */
function chatActivities(timeoutMs: number) {
  const options: ActivityOptions = {
    // Waiting for the reply is bounded by the request deadline; the heartbeat notices a dead worker sooner.
    startToCloseTimeout: timeoutMs + 10_000,
    heartbeatTimeout: '5s',
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '30s',
    },
  };
  return proxyActivities<GatewayActivities>(options);
}

/**
 * Imports conversations in batches. Each batch has a `batch_id` derived from the workflow id and
 * its index, and its activity reuses it as request_id on every retry, so the chat service imports
 * each batch once however often the worker dies. Returns every created conversation number.
 */
export async function chatUploadConversations(input: ChatUploadInput): Promise<ChatUploadResult> {
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
export async function chatDeleteAll(input: ChatDeleteAllInput): Promise<ChatDeleteAllResult> {
  const { chatDeleteAllResource } = chatActivities(input.request_timeout_ms);
  return chatDeleteAllResource({
    resource: input.resource,
    request_id: workflowInfo().workflowId,
    user_context: input.user_context,
    request_metadata: input.request_metadata,
    timeout_ms: input.request_timeout_ms,
  });
}
