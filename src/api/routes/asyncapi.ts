import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import { buildChatAsyncApi } from '../../chat/asyncapi';
import { addDomainEvents } from '../../events/asyncapi';

/** GET /asyncapi.json: the AsyncAPI 3 document of every Kafka topic the gateway produces or consumes (chat protocol and domain events). */
const asyncApiRoutes: FastifyPluginAsync = async (app) => {
  const document = JSON.stringify(addDomainEvents(buildChatAsyncApi(app.config), app.config));
  app.get(
    '/asyncapi.json',
    {
      schema: {
        tags: ['operations'],
        summary:
          'AsyncAPI 3 document of every Kafka topic and message: chat protocol and domain events (generated from the validating schemas)',
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
