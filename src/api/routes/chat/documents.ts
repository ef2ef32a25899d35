import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { dataUrlOf } from '../../../chat/data-url';
import { DataUrl, DocumentSchema } from '../../../chat/schemas';
import { HttpError } from '../../../errors';
import { ConcurrencyLimit, concurrencyHook } from '../../concurrency-limit';
import { addDocumentJsonParser } from './document-body';
import { withErrors } from '../../schemas';
import documentItemRoutes from './document-items';
import { COMMON_ERRORS, Page, USER, ask, list, listOf } from './shared';

const DocumentBody = Type.Object({ title: Type.String({ minLength: 1 }), file: DataUrl });
/** An upload of 25 MiB takes seconds; sooner retries would mostly be refused again. */
const UPLOAD_RETRY_AFTER_S = 5;

/** Embedding documents: the only chat routes that take multipart and large bodies (own scope for the parser). */
const documentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { config } = app;
  const uploads = new ConcurrencyLimit(config.UPLOAD_CONCURRENCY_PER_USER, config.UPLOAD_CONCURRENCY_PER_PROCESS);
  addDocumentJsonParser(app, config.DOCUMENT_BODY_LIMIT_BYTES);
  await app.register(multipart, {
    attachFieldsToBody: 'keyValues',
    limits: { fileSize: config.DOCUMENT_BODY_LIMIT_BYTES, files: 1, fields: 10 },
    // The file becomes the same data URL a JSON upload carries, so one schema validates both.
    onFile: async function (this: FastifyRequest, part) {
      const size = Math.min(Number(this.headers['content-length']) || Infinity, config.DOCUMENT_BODY_LIMIT_BYTES);
      const value = await dataUrlOf(part.mimetype || 'application/octet-stream', part.file, size);
      if (part.file.truncated) throw new HttpError('payload_too_large', 'Request body is too large');
      (part as unknown as { value: string }).value = value;
    },
  });

  app.get(
    '/api/chat/embedding_document/',
    {
      schema: {
        ...USER,
        summary: 'List embedding documents',
        querystring: Page,
        response: withErrors({ 200: listOf(DocumentSchema) }, ...COMMON_ERRORS),
      },
    },
    async (request, reply) => list(reply, await ask(request, 'chat_get_documents', request.query)),
  );

  app.post(
    '/api/chat/embedding_document/',
    {
      config: { idempotent: true },
      bodyLimit: config.DOCUMENT_BODY_LIMIT_BYTES,
      // After authentication, before a byte of the (up to 25 MiB) body is read.
      onRequest: concurrencyHook(uploads, { what: 'document uploads', retryAfterS: UPLOAD_RETRY_AFTER_S }),
      schema: {
        ...USER,
        summary: 'Upload a document: JSON {title, file: data URL} or multipart/form-data (title, file)',
        body: {
          content: {
            'application/json': { schema: DocumentBody },
            'multipart/form-data': { schema: DocumentBody },
          },
        },
        response: withErrors({ 201: DocumentSchema }, ...COMMON_ERRORS, 413, 415, 429),
      },
    },
    async (request, reply) => {
      const body = request.body as Static<typeof DocumentBody>;
      return reply.status(201).send(await ask(request, 'chat_upload_document', { title: body.title, file: body.file }));
    },
  );

  // After the upload: the order of the routes is the order of the OpenAPI document.
  await app.register(documentItemRoutes);
};

export default documentRoutes;
