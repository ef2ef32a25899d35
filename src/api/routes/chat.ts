import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ChatCallOptions } from '../../chat/request-reply';
import type { ChatOperation, PayloadOf, ReplyOf } from '../../chat/operations';
import {
  AiMessageSchema,
  AiOptions,
  ConversationSchema,
  DataUrl,
  DeletedCount,
  DocumentSchema,
  GeneratedTitle,
  ImportSchema,
  MessageFields,
  MessageSchema,
  PerUserId,
  PromptSchema,
  SettingSchema,
  UploadResult,
  type RequestMetadata,
} from '../../chat/schemas';
import { sendSse } from '../../chat/sse';
import type { ChatStreamEvent } from '../../chat/stream';
import { operationKey, operationLocation, runOperation, type OperationOutcome } from '../../temporal/operations';
import { chatDeleteAll, chatUploadConversations, type ChatResource } from '../../workflows/chat';
import { idempotencyKeyOf } from '../plugins/idempotency';
import { Operation, withErrors } from '../schemas';

const USER = { tags: ['chat'], security: [{ bearer: [] }] };
/** Errors every user chat route can answer. */
const COMMON_ERRORS = [401, 422, 502, 503, 504];

const Page = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
});

const TOTAL_COUNT = { headers: { 'x-total-count': { type: 'integer', description: 'total_count of the list' } } };
const listOf = <T extends TSchema>(item: T) => Type.Array(item, TOTAL_COUNT);

const NoContent = Type.Null({ description: 'Deleted' });

const MessageCreateBody = Type.Object({
  conversation: PerUserId,
  message: Type.String(),
  ...MessageFields,
});
const MessageUpdateBody = Type.Object({ message: Type.Optional(Type.String()), ...MessageFields });

const AiConversationBody = Type.Object({
  name: Type.String({ description: 'Model name' }),
  message: Type.Array(AiMessageSchema, { minItems: 1 }),
  conversationId: Type.Optional(PerUserId),
  frugalMode: Type.Optional(Type.Boolean()),
  ...AiOptions,
});

const SseStream = Type.String({
  description:
    'text/event-stream: `event: userMessageId|message|done|error` frames with one-line JSON data ' +
    '({userMessageId}, {content}, {messageId, conversationId, newDocId}, {error}); a comment every 15 s',
});

const DocumentBody = Type.Object({ title: Type.String({ minLength: 1 }), file: DataUrl });

const DELETE_ALL_OPERATION = {
  conversations: 'chat_delete_all_conversations',
  prompts: 'chat_delete_all_prompts',
  documents: 'chat_delete_all_documents',
} as const;

function requestMetadata(request: FastifyRequest): RequestMetadata {
  return {
    source_ip: request.ip,
    user_agent: String(request.headers['user-agent'] ?? ''),
    gateway_request_id: request.id,
  };
}

/**
 * The chat routes (gateway-http.md → Chat). Every call goes through the one ChatRequestReply;
 * `user_context` comes from the verified token; chat errors become HTTP errors there.
 */
const chatRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const chat = app.deps.chat;
  const { config } = app;
  // Chat bodies are JSON (documents: also multipart); anything else is 415, not a string body.
  app.removeContentTypeParser('text/plain');
  /** Open AI answer streams, ended when the server closes (they would otherwise hold shutdown up). */
  const openStreams = new Set<{ fail(message: string): void }>();
  app.addHook('preClose', async () => {
    for (const s of openStreams) s.fail('The gateway is shutting down');
  });

  async function ask<O extends ChatOperation>(
    request: FastifyRequest,
    operation: O,
    payload: PayloadOf<O>,
    options: ChatCallOptions = {},
  ): Promise<ReplyOf<O>> {
    return chat.request(operation, payload, {
      userContext: await app.userContext(request),
      requestMetadata: requestMetadata(request),
      ...options,
    });
  }

  function list<T>(reply: FastifyReply, result: { items: T[]; total_count: number }): T[] {
    void reply.header('x-total-count', String(result.total_count));
    return result.items;
  }

  function answerOperation<R>(reply: FastifyReply, outcome: OperationOutcome<R>) {
    if (outcome.status === 'completed') return reply.status(200).send(outcome.result);
    return reply
      .status(202)
      .header('location', operationLocation(outcome.workflowId))
      .send({ operation_id: outcome.workflowId, status: 'running' as const });
  }

  async function deleteAll(request: FastifyRequest, reply: FastifyReply, resource: ChatResource) {
    const user = request.user!;
    const userContext = await app.userContext(request);
    const key = operationKey(idempotencyKeyOf(request), request.id);
    const outcome = await runOperation(
      app.deps.temporal.client,
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
        workflowId: `chat-delete-all/${resource}/${user.sub}/${key}`,
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        userId: user.sub,
        orgId: userContext.active_org_id,
        requestId: request.id,
        syncTimeoutMs: config.WORKFLOW_SYNC_TIMEOUT_MS,
        memo: { operation: DELETE_ALL_OPERATION[resource] },
      },
    );
    return answerOperation(reply, outcome);
  }

  const deleteAllSchema = (what: string) => ({
    ...USER,
    summary: `Delete all of the caller's ${what} (workflow chat-delete-all)`,
    description:
      '200 with the result when the workflow ends within WORKFLOW_SYNC_TIMEOUT_MS, else 202 and Location: /v1/operations/{id}.',
    response: withErrors({ 200: DeletedCount, 202: Operation }, ...COMMON_ERRORS),
  });

  // ---- conversations

  app.get(
    '/api/chat/conversations/',
    {
      preHandler: app.authenticate,
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
      preHandler: app.authenticate,
      config: { idempotent: true },
      schema: {
        ...USER,
        summary: 'Create a conversation',
        body: Type.Object({ topic: Type.String({ minLength: 1, maxLength: 1000 }) }),
        response: withErrors({ 201: ConversationSchema }, ...COMMON_ERRORS),
      },
    },
    async (request, reply) =>
      reply.status(201).send(await ask(request, 'chat_create_conversation', { topic: request.body.topic })),
  );

  app.delete(
    '/api/chat/conversations/delete_all/',
    {
      preHandler: app.authenticate,
      config: { idempotent: true },
      schema: deleteAllSchema('conversations and their messages'),
    },
    async (request, reply) => deleteAll(request, reply, 'conversations'),
  );

  const ConversationParams = Type.Object({ conversation_id: PerUserId });

  app.get(
    '/api/chat/conversations/:conversation_id/',
    {
      preHandler: app.authenticate,
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
      preHandler: app.authenticate,
      schema: {
        ...USER,
        summary: 'Rename a conversation',
        params: ConversationParams,
        body: Type.Object({ topic: Type.String({ minLength: 1, maxLength: 1000 }) }),
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
      preHandler: app.authenticate,
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

  // ---- messages

  const MessageParams = Type.Object({ message_id: PerUserId });

  app.get(
    '/api/chat/messages/',
    {
      preHandler: app.authenticate,
      schema: {
        ...USER,
        summary: 'List messages, optionally of one conversation',
        querystring: Type.Composite([Page, Type.Object({ conversationId: Type.Optional(PerUserId) })]),
        response: withErrors({ 200: listOf(MessageSchema) }, ...COMMON_ERRORS, 404),
      },
    },
    async (request, reply) => {
      const { conversationId, limit, offset } = request.query;
      return list(reply, await ask(request, 'chat_get_messages', { conversation_id: conversationId, limit, offset }));
    },
  );

  app.post(
    '/api/chat/messages/',
    {
      preHandler: app.authenticate,
      config: { idempotent: true },
      schema: {
        ...USER,
        summary: 'Create a message (conversation = the per-user conversation number)',
        body: MessageCreateBody,
        response: withErrors({ 201: MessageSchema }, ...COMMON_ERRORS, 404),
      },
    },
    async (request, reply) => {
      const { conversation, ...rest } = request.body;
      return reply
        .status(201)
        .send(await ask(request, 'chat_create_message', { conversation_id: conversation, ...rest }));
    },
  );

  app.get(
    '/api/chat/messages/:message_id/',
    {
      preHandler: app.authenticate,
      schema: {
        ...USER,
        summary: 'Get a message',
        params: MessageParams,
        response: withErrors({ 200: MessageSchema }, ...COMMON_ERRORS, 404),
      },
    },
    async (request) => ask(request, 'chat_get_message', { message_id: request.params.message_id }),
  );

  app.put(
    '/api/chat/messages/:message_id/',
    {
      preHandler: app.authenticate,
      schema: {
        ...USER,
        summary: 'Update a message',
        params: MessageParams,
        body: MessageUpdateBody,
        response: withErrors({ 200: MessageSchema }, ...COMMON_ERRORS, 404),
      },
    },
    async (request) => ask(request, 'chat_update_message', { message_id: request.params.message_id, ...request.body }),
  );

  app.delete(
    '/api/chat/messages/:message_id/',
    {
      preHandler: app.authenticate,
      config: { idempotent: true },
      schema: {
        ...USER,
        summary: 'Delete a message',
        params: MessageParams,
        response: withErrors({ 204: NoContent }, ...COMMON_ERRORS, 404),
      },
    },
    async (request, reply) => {
      await ask(request, 'chat_delete_message', { message_id: request.params.message_id });
      return reply.status(204).send();
    },
  );

  // ---- the AI answer, streamed

  app.post(
    '/api/conversation/',
    {
      preHandler: app.authenticate,
      schema: {
        ...USER,
        summary: 'Ask the model; the answer streams back as server-sent events',
        body: AiConversationBody,
        response: withErrors({ 200: { content: { 'text/event-stream': { schema: SseStream } } } as never }, 401, 422),
      },
    },
    async (request, reply) => {
      const { conversationId, frugalMode, ...rest } = request.body;
      const userContext = await app.userContext(request);
      const stream = chat.stream(
        'chat_ai_conversation',
        { ...rest, conversation_id: conversationId, frugal_mode: frugalMode },
        { userContext, requestMetadata: requestMetadata(request), idleTimeoutMs: config.CHAT_STREAM_IDLE_TIMEOUT_MS },
      );
      openStreams.add(stream);
      try {
        await sendSse(reply, stream as AsyncIterable<ChatStreamEvent>, { onClientGone: () => stream.cancel() });
      } finally {
        openStreams.delete(stream);
      }
      return reply;
    },
  );

  app.post(
    '/api/gen_title/',
    {
      preHandler: app.authenticate,
      config: { idempotent: true },
      schema: {
        ...USER,
        summary: 'Generate a title for a conversation (long deadline: CHAT_GEN_TITLE_TIMEOUT_MS)',
        body: Type.Object({ conversationId: PerUserId, prompt: Type.Optional(Type.String()) }),
        response: withErrors({ 200: GeneratedTitle }, ...COMMON_ERRORS, 404),
      },
    },
    async (request) =>
      ask(
        request,
        'chat_generate_title',
        { conversation_id: request.body.conversationId, prompt: request.body.prompt },
        { timeoutMs: config.CHAT_GEN_TITLE_TIMEOUT_MS },
      ),
  );

  app.post(
    '/api/upload_conversations/',
    {
      preHandler: app.authenticate,
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
          workflowId: `chat-upload-conversations/${user.sub}/${key}`,
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

  // ---- prompts

  const PromptParams = Type.Object({ prompt_id: PerUserId });

  app.get(
    '/api/chat/prompts/',
    {
      preHandler: app.authenticate,
      schema: {
        ...USER,
        summary: 'List prompts',
        querystring: Page,
        response: withErrors({ 200: listOf(PromptSchema) }, ...COMMON_ERRORS),
      },
    },
    async (request, reply) => list(reply, await ask(request, 'chat_get_prompts', request.query)),
  );

  app.post(
    '/api/chat/prompts/',
    {
      preHandler: app.authenticate,
      config: { idempotent: true },
      schema: {
        ...USER,
        summary: 'Create a prompt',
        body: Type.Object({ title: Type.String({ minLength: 1, maxLength: 1000 }), content: Type.String() }),
        response: withErrors({ 201: PromptSchema }, ...COMMON_ERRORS),
      },
    },
    async (request, reply) => reply.status(201).send(await ask(request, 'chat_create_prompt', request.body)),
  );

  app.delete(
    '/api/chat/prompts/delete_all/',
    { preHandler: app.authenticate, config: { idempotent: true }, schema: deleteAllSchema('prompts') },
    async (request, reply) => deleteAll(request, reply, 'prompts'),
  );

  app.get(
    '/api/chat/prompts/:prompt_id/',
    {
      preHandler: app.authenticate,
      schema: {
        ...USER,
        summary: 'Get a prompt',
        params: PromptParams,
        response: withErrors({ 200: PromptSchema }, ...COMMON_ERRORS, 404),
      },
    },
    async (request) => ask(request, 'chat_get_prompt', { prompt_id: request.params.prompt_id }),
  );

  app.put(
    '/api/chat/prompts/:prompt_id/',
    {
      preHandler: app.authenticate,
      schema: {
        ...USER,
        summary: 'Update a prompt',
        params: PromptParams,
        body: Type.Object({
          title: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
          content: Type.Optional(Type.String()),
        }),
        response: withErrors({ 200: PromptSchema }, ...COMMON_ERRORS, 404),
      },
    },
    async (request) => ask(request, 'chat_update_prompt', { prompt_id: request.params.prompt_id, ...request.body }),
  );

  app.delete(
    '/api/chat/prompts/:prompt_id/',
    {
      preHandler: app.authenticate,
      config: { idempotent: true },
      schema: {
        ...USER,
        summary: 'Delete a prompt',
        params: PromptParams,
        response: withErrors({ 204: NoContent }, ...COMMON_ERRORS, 404),
      },
    },
    async (request, reply) => {
      await ask(request, 'chat_delete_prompt', { prompt_id: request.params.prompt_id });
      return reply.status(204).send();
    },
  );

  // ---- documents (own scope: the only routes that take multipart and large bodies)

  await app.register(async (docs) => {
    await docs.register(multipart, {
      attachFieldsToBody: 'keyValues',
      limits: { fileSize: config.DOCUMENT_BODY_LIMIT_BYTES, files: 1, fields: 10 },
      // The file becomes the same data URL a JSON upload carries, so one schema validates both.
      onFile: async (part) => {
        const data = await part.toBuffer();
        (part as unknown as { value: string }).value =
          `data:${part.mimetype || 'application/octet-stream'};base64,${data.toString('base64')}`;
      },
    });

    const DocumentParams = Type.Object({ document_id: PerUserId });

    docs.get(
      '/api/chat/embedding_document/',
      {
        preHandler: app.authenticate,
        schema: {
          ...USER,
          summary: 'List embedding documents',
          querystring: Page,
          response: withErrors({ 200: listOf(DocumentSchema) }, ...COMMON_ERRORS),
        },
      },
      async (request, reply) =>
        list(reply, await ask(request, 'chat_get_documents', request.query as Static<typeof Page>)),
    );

    docs.post(
      '/api/chat/embedding_document/',
      {
        preHandler: app.authenticate,
        config: { idempotent: true },
        bodyLimit: config.DOCUMENT_BODY_LIMIT_BYTES,
        schema: {
          ...USER,
          summary: 'Upload a document: JSON {title, file: data URL} or multipart/form-data (title, file)',
          body: {
            content: {
              'application/json': { schema: DocumentBody },
              'multipart/form-data': { schema: DocumentBody },
            },
          },
          response: withErrors({ 201: DocumentSchema }, ...COMMON_ERRORS, 413, 415),
        },
      },
      async (request, reply) => {
        const body = request.body as Static<typeof DocumentBody>;
        return reply
          .status(201)
          .send(await ask(request, 'chat_upload_document', { title: body.title, file: body.file }));
      },
    );

    docs.delete(
      '/api/chat/embedding_document/delete_all/',
      { preHandler: app.authenticate, config: { idempotent: true }, schema: deleteAllSchema('embedding documents') },
      async (request, reply) => deleteAll(request, reply, 'documents'),
    );

    docs.get(
      '/api/chat/embedding_document/:document_id/',
      {
        preHandler: app.authenticate,
        schema: {
          ...USER,
          summary: 'Get a document',
          params: DocumentParams,
          response: withErrors({ 200: DocumentSchema }, ...COMMON_ERRORS, 404),
        },
      },
      async (request) =>
        ask(request, 'chat_get_document', {
          document_id: (request.params as Static<typeof DocumentParams>).document_id,
        }),
    );

    docs.put(
      '/api/chat/embedding_document/:document_id/',
      {
        preHandler: app.authenticate,
        schema: {
          ...USER,
          summary: 'Rename a document',
          params: DocumentParams,
          body: Type.Object({ title: Type.String({ minLength: 1, maxLength: 1000 }) }),
          response: withErrors({ 200: DocumentSchema }, ...COMMON_ERRORS, 404),
        },
      },
      async (request) =>
        ask(request, 'chat_update_document', {
          document_id: (request.params as Static<typeof DocumentParams>).document_id,
          title: (request.body as { title: string }).title,
        }),
    );

    docs.delete(
      '/api/chat/embedding_document/:document_id/',
      {
        preHandler: app.authenticate,
        config: { idempotent: true },
        schema: {
          ...USER,
          summary: 'Delete a document',
          params: DocumentParams,
          response: withErrors({ 204: NoContent }, ...COMMON_ERRORS, 404),
        },
      },
      async (request, reply) => {
        await ask(request, 'chat_delete_document', {
          document_id: (request.params as Static<typeof DocumentParams>).document_id,
        });
        return reply.status(204).send();
      },
    );
  });

  // ---- settings: public

  app.get(
    '/api/chat/settings/',
    {
      schema: {
        tags: ['chat'],
        summary: 'Public chat settings (no authentication; other methods → 405)',
        response: withErrors({ 200: Type.Array(SettingSchema) }, 502, 503, 504),
      },
    },
    async (request) =>
      (await chat.request('chat_get_settings', {}, { requestMetadata: requestMetadata(request) })).items,
  );
};

export default chatRoutes;
