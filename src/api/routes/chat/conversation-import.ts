import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ImportSchema, UploadResult } from '../../../chat/schemas';
import { operationKey, runOperation } from '../../../temporal/operations';
import { chatUploadWorkflowId } from '../../../workflows/chat/contract';
import { chatUploadConversations } from '../../../workflows/chat/workflow';
import { idempotencyKeyOf } from '../../plugins/idempotency';
import { Operation, withErrors } from '../../schemas';
import { COMMON_ERRORS, USER, answerOperation, requestMetadata } from './shared';

/** The bulk import of conversations as the chat-upload-conversations workflow. */
const conversationImportRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { config } = app;

  app.post(
    '/api/upload_conversations/',
    {
      config: { idempotent: true },
      schema: {
        ...USER,
        summary: 'Import conversations (workflow chat-upload-conversations, in batches of CHAT_UPLOAD_BATCH_SIZE)',
        description:
          '200 with all created conversation numbers when the workflow ends within WORKFLOW_SYNC_TIMEOUT_MS, ' +
          'else 202 and Location: /v1/operations/{id} (progress {done, total}). Idempotency-Key makes a retry join the same import.',
        body: Type.Object({ imports: Type.Array(ImportSchema, { minItems: 1, maxItems: 10_000 }) }),
        response: withErrors({ 200: UploadResult, 202: Operation }, ...COMMON_ERRORS),
      },
    },
    async (request, reply) => {
      const user = request.user!;
      const userContext = await app.userContext(request);
      const key = operationKey(idempotencyKeyOf(request), request.id);
      const outcome = await runOperation(
        app.deps.temporal.client,
        chatUploadConversations,
        [
          {
            user_context: userContext,
            request_metadata: requestMetadata(request),
            imports: request.body.imports,
            batch_size: config.CHAT_UPLOAD_BATCH_SIZE,
            request_timeout_ms: config.CHAT_REQUEST_TIMEOUT_MS,
          },
        ],
        {
          kind: 'chat-upload-conversations',
          workflowId: chatUploadWorkflowId(user.sub, key),
          taskQueue: config.TEMPORAL_TASK_QUEUE,
          userId: user.sub,
          orgId: userContext.active_org_id,
          requestId: request.id,
          syncTimeoutMs: config.WORKFLOW_SYNC_TIMEOUT_MS,
          memo: { progress: { done: 0, total: request.body.imports.length } },
        },
      );
      return answerOperation(reply, outcome);
    },
  );
};

export default conversationImportRoutes;
