import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import { buildChatAsyncApi } from '../../chat/asyncapi';
import { addDomainEvents } from '../../events/asyncapi';

/** GET /asyncapi.json: the AsyncAPI 3 document of every Kafka topic the gateway produces or consumes (chat protocol and domain events). */
const asyncApiRoutes: FastifyPluginAsync = async (app) => {
  // Built on the first request, then kept: a document only tools and people read should not cost
  // start-up time and memory (about 0.25 MB of JSON, plus the garbage of generating it) in every replica.
  let document: string | undefined;
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
    async (_request, reply) => {
      document ??= JSON.stringify(addDomainEvents(buildChatAsyncApi(app.config), app.config));
      return reply
        .type('application/json; charset=utf-8')
        .serializer((s: string) => s)
        .send(document);
    },
  );
};

export default asyncApiRoutes;
