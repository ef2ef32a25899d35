import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { PerUserId, PromptSchema } from '../../../chat/schemas';
import { withErrors } from '../../schemas';
import { COMMON_ERRORS, NoContent, Page, USER, ask, deleteAll, deleteAllSchema, list, listOf } from './shared';

const PromptParams = Type.Object({ prompt_id: PerUserId });
const Title = Type.String({ minLength: 1, maxLength: 1000 });

const promptRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/chat/prompts/',
    {
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
      config: { idempotent: true },
      schema: {
        ...USER,
        summary: 'Create a prompt',
        body: Type.Object({ title: Title, content: Type.String() }),
        response: withErrors({ 201: PromptSchema }, ...COMMON_ERRORS),
      },
    },
    async (request, reply) => reply.status(201).send(await ask(request, 'chat_create_prompt', request.body)),
  );

  app.delete(
    '/api/chat/prompts/delete_all/',
    { config: { idempotent: true }, schema: deleteAllSchema('prompts') },
    async (request, reply) => deleteAll(request, reply, 'prompts'),
  );

  app.get(
    '/api/chat/prompts/:prompt_id/',
    {
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
      schema: {
        ...USER,
        summary: 'Update a prompt',
        params: PromptParams,
        body: Type.Object({ title: Type.Optional(Title), content: Type.Optional(Type.String()) }),
        response: withErrors({ 200: PromptSchema }, ...COMMON_ERRORS, 404),
      },
    },
    async (request) => ask(request, 'chat_update_prompt', { prompt_id: request.params.prompt_id, ...request.body }),
  );

  app.delete(
    '/api/chat/prompts/:prompt_id/',
    {
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
};

export default promptRoutes;
