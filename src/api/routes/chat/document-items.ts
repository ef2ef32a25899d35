import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { DocumentSchema, PerUserId } from '../../../chat/schemas';
import { withErrors } from '../../schemas';
import { COMMON_ERRORS, NoContent, USER, ask, deleteAll, deleteAllSchema } from './shared';

const DocumentParams = Type.Object({ document_id: PerUserId });

/** One embedding document (get, rename, delete) and delete-all; registered in the documents' scope (its body parsers). */
const documentItemRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.delete(
    '/api/chat/embedding_document/delete_all/',
    { config: { idempotent: true }, schema: deleteAllSchema('embedding documents') },
    async (request, reply) => deleteAll(request, reply, 'documents'),
  );

  app.get(
    '/api/chat/embedding_document/:document_id/',
    {
      schema: {
        ...USER,
        summary: 'Get a document',
        params: DocumentParams,
        response: withErrors({ 200: DocumentSchema }, ...COMMON_ERRORS, 404),
      },
    },
    async (request) => ask(request, 'chat_get_document', { document_id: request.params.document_id }),
  );

  app.put(
    '/api/chat/embedding_document/:document_id/',
    {
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
        document_id: request.params.document_id,
        title: request.body.title,
      }),
  );

  app.delete(
    '/api/chat/embedding_document/:document_id/',
    {
      config: { idempotent: true },
      schema: {
        ...USER,
        summary: 'Delete a document',
        params: DocumentParams,
        response: withErrors({ 204: NoContent }, ...COMMON_ERRORS, 404),
      },
    },
    async (request, reply) => {
      await ask(request, 'chat_delete_document', { document_id: request.params.document_id });
      return reply.status(204).send();
    },
  );
};

export default documentItemRoutes;
