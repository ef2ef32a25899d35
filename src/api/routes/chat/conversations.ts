import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ConversationSchema, ImportSchema, PerUserId, UploadResult } from '../../../chat/schemas';
import { operationKey, runOperation } from '../../../temporal/operations';
import { chatUploadWorkflowId } from '../../../workflows/chat/contract';
import { chatUploadConversations } from '../../../workflows/chat/workflow';
import { idempotencyKeyOf } from '../../plugins/idempotency';
import { Operation, withErrors } from '../../schemas';
import {
  COMMON_ERRORS,
  NoContent,
  Page,
  USER,
  answerOperation,
  ask,
  deleteAll,
  deleteAllSchema,
  list,
  listOf,
  requestMetadata,
} from './shared';

const ConversationParams = Type.Object({ conversation_id: PerUserId });
const TopicBody = Type.Object({ topic: Type.String({ minLength: 1, maxLength: 1000 }) });

/** Conversations, and their bulk import as the chat-upload-conversations workflow. */
const conversationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { config } = app;

  app.get(
    '/api/chat/conversations/',
    {
      schema: {
        ...USER,
        summary: 'List conversations',
        querystring: Page,
        response: withErrors({ 200: listOf(ConversationSchema) }, ...COMMON_ERRORS),
      },
    },
    async (request, reply) => list(reply, await ask(request, 'chat_get_conversations', request.query)),
  );

  app.post(
    '/api/chat/conversations/',
    {
      config: { idempotent: true },
      schema: {
        ...USER,
        summary: 'Create a conversation',
        body: TopicBody,
        response: withErrors({ 201: ConversationSchema }, ...COMMON_ERRORS),
      },
    },
    async (request, reply) =>
      reply.status(201).send(await ask(request, 'chat_create_conversation', { topic: request.body.topic })),
  );

  app.delete(
    '/api/chat/conversations/delete_all/',
    { config: { idempotent: true }, schema: deleteAllSchema('conversations and their messages') },
    async (request, reply) => deleteAll(request, reply, 'conversations'),
  );

  app.get(
    '/api/chat/conversations/:conversation_id/',
    {
      schema: {
        ...USER,
        summary: 'Get a conversation',
        params: ConversationParams,
        response: withErrors({ 200: ConversationSchema }, ...COMMON_ERRORS, 404),
      },
    },
    async (request) => ask(request, 'chat_get_conversation', { conversation_id: request.params.conversation_id }),
  );

  app.put(
    '/api/chat/conversations/:conversation_id/',
    {
      schema: {
        ...USER,
        summary: 'Rename a conversation',
        params: ConversationParams,
        body: TopicBody,
        response: withErrors({ 200: ConversationSchema }, ...COMMON_ERRORS, 404),
      },
    },
    async (request) =>
      ask(request, 'chat_update_conversation', {
        conversation_id: request.params.conversation_id,
        topic: request.body.topic,
      }),
  );

  app.delete(
    '/api/chat/conversations/:conversation_id/',
    {
      config: { idempotent: true },
      schema: {
        ...USER,
        summary: 'Delete a conversation and its messages',
        params: ConversationParams,
        response: withErrors({ 204: NoContent }, ...COMMON_ERRORS, 404),
      },
    },
    async (request, reply) => {
      await ask(request, 'chat_delete_conversation', { conversation_id: request.params.conversation_id });
      return reply.status(204).send();
    },
  );

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

export default conversationRoutes;
