import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ChatCallOptions } from '../../../chat/request-reply';
import type { ChatOperation, PayloadOf, ReplyOf } from '../../../chat/operations';
import { DeletedCount, type RequestMetadata } from '../../../chat/schemas';
import { operationKey, operationLocation, runOperation, type OperationOutcome } from '../../../temporal/operations';
import {
  CHAT_DELETE_ALL_OPERATION,
  chatDeleteAllWorkflowId,
  type ChatResource,
} from '../../../workflows/chat/contract';
import { chatDeleteAll } from '../../../workflows/chat/workflow';
import { idempotencyKeyOf, idempotentRequestId } from '../../plugins/idempotency';
import { Operation, withErrors } from '../../schemas';

export const USER = { tags: ['chat'], security: [{ bearer: [] }] };
/** Errors every user chat route can answer. */
export const COMMON_ERRORS = [401, 422, 502, 503, 504];

export const Page = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
});

const TOTAL_COUNT = { headers: { 'x-total-count': { type: 'integer', description: 'total_count of the list' } } };
export const listOf = <T extends TSchema>(item: T) => Type.Array(item, TOTAL_COUNT);

export const NoContent = Type.Null({ description: 'Deleted' });

export function requestMetadata(request: FastifyRequest): RequestMetadata {
  return {
    source_ip: request.ip,
    user_agent: String(request.headers['user-agent'] ?? ''),
    gateway_request_id: request.id,
  };
}

/** One chat request-reply call on behalf of the authenticated caller. */
export async function ask<O extends ChatOperation>(
  request: FastifyRequest,
  operation: O,
  payload: PayloadOf<O>,
  options: ChatCallOptions = {},
): Promise<ReplyOf<O>> {
  const app = request.server;
  return app.deps.chat.request(operation, payload, {
    userContext: await app.userContext(request),
    requestMetadata: requestMetadata(request),
    requestId: idempotentRequestId(request),
    ...options,
  });
}

/** The items of a chat list, with its total_count as X-Total-Count. */
export function list<T>(reply: FastifyReply, result: { items: T[]; total_count: number }): T[] {
  void reply.header('x-total-count', String(result.total_count));
  return result.items;
}

/** 200 with the workflow's result, or 202 + Location while it still runs. */
export function answerOperation<R>(reply: FastifyReply, outcome: OperationOutcome<R>) {
  if (outcome.status === 'completed') return reply.status(200).send(outcome.result);
  return reply
    .status(202)
    .header('location', operationLocation(outcome.workflowId))
    .send({ operation_id: outcome.workflowId, status: 'running' as const });
}

/** Deletes all of the caller's conversations, prompts or documents through the chat-delete-all workflow. */
export async function deleteAll(request: FastifyRequest, reply: FastifyReply, resource: ChatResource) {
  const { config, deps } = request.server;
  const user = request.user!;
  const userContext = await request.server.userContext(request);
  const key = operationKey(idempotencyKeyOf(request), request.id);
  const outcome = await runOperation(
    deps.temporal.client,
    chatDeleteAll,
    [
      {
        resource,
        user_context: userContext,
        request_metadata: requestMetadata(request),
        request_timeout_ms: config.CHAT_REQUEST_TIMEOUT_MS,
      },
    ],
    {
      kind: 'chat-delete-all',
      workflowId: chatDeleteAllWorkflowId(resource, user.sub, key),
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      userId: user.sub,
      orgId: userContext.active_org_id,
      requestId: request.id,
      syncTimeoutMs: config.WORKFLOW_SYNC_TIMEOUT_MS,
      memo: { operation: CHAT_DELETE_ALL_OPERATION[resource] },
    },
  );
  return answerOperation(reply, outcome);
}

export const deleteAllSchema = (what: string) => ({
  ...USER,
  summary: `Delete all of the caller's ${what} (workflow chat-delete-all)`,
  description:
    '200 with the result when the workflow ends within WORKFLOW_SYNC_TIMEOUT_MS, else 202 and Location: /v1/operations/{id}.',
  response: withErrors({ 200: DeletedCount, 202: Operation }, ...COMMON_ERRORS),
});
