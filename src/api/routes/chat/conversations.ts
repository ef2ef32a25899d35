import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ConversationSchema, PerUserId } from '../../../chat/schemas';
import { withErrors } from '../../schemas';
import { COMMON_ERRORS, NoContent, Page, USER, ask, deleteAll, deleteAllSchema, list, listOf } from './shared';

const ConversationParams = Type.Object({ conversation_id: PerUserId });
const TopicBody = Type.Object({ topic: Type.String({ minLength: 1, maxLength: 1000 }) });

/** Conversations (their bulk import is conversation-import.ts). */
const conversationRoutes: FastifyPluginAsyncTypebox = async (app) => {
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
};

export default conversationRoutes;
