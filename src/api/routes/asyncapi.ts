import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import { buildChatAsyncApi } from '../../chat/asyncapi';

/** GET /asyncapi.json: the AsyncAPI 3 document of the Kafka topics the gateway talks to the chat service on. */
const asyncApiRoutes: FastifyPluginAsync = async (app) => {
  const document = JSON.stringify(buildChatAsyncApi(app.config));
  app.get(
    '/asyncapi.json',
    {
      schema: {
        tags: ['operations'],
        summary: 'AsyncAPI 3 document of every chat topic and message (generated from the validating schemas)',
        response: { 200: Type.Object({}, { additionalProperties: true }) },
      },
    },
    async (_request, reply) =>
      reply
        .type('application/json; charset=utf-8')
        .serializer((s: string) => s)
        .send(document),
  );
};

export default asyncApiRoutes;
