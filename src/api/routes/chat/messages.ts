import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { MessageFields, MessageSchema, PerUserId } from '../../../chat/schemas';
import { withErrors } from '../../schemas';
import { COMMON_ERRORS, NoContent, Page, USER, ask, list, listOf } from './shared';

const MessageParams = Type.Object({ message_id: PerUserId });
const MessageCreateBody = Type.Object({
  conversation: PerUserId,
  message: Type.String(),
  ...MessageFields,
});
const MessageUpdateBody = Type.Object({ message: Type.Optional(Type.String()), ...MessageFields });

const messageRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/chat/messages/',
    {
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
};

export default messageRoutes;
