import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError } from '../../../errors';

/**
 * The JSON parser of the document routes. Fastify's own keeps every chunk of the body, then
 * concatenates them into a second buffer, then decodes a string: three copies of a 25 MiB upload
 * before JSON.parse makes the fourth. Here the body goes straight into one buffer of its
 * Content-Length (already checked against the route's limit), freed as soon as it is decoded, so
 * at most two copies live at once: bytes and text, then text and parsed value.
 */
export function addDocumentJsonParser(app: FastifyInstance, limit: number): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', (request: FastifyRequest, payload, done) => {
    readBody(request, payload, limit).then(
      (text) => parseJson(request, text, done),
      (err: unknown) => done(err as Error, undefined),
    );
  });
}

async function readBody(request: FastifyRequest, payload: NodeJS.ReadableStream, limit: number): Promise<string> {
  const declared = Number(request.headers['content-length']);
  if (declared > limit) throw new HttpError('payload_too_large', 'Request body is too large');
  const known = Number.isInteger(declared) && declared >= 0;
  // Without a Content-Length (chunked), chunks are kept and joined once, as Fastify does.
  const body = known ? Buffer.allocUnsafeSlow(declared) : undefined;
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of payload as AsyncIterable<Buffer>) {
    if (length + chunk.length > (known ? declared : limit)) {
      throw known
        ? new HttpError('bad_request', 'Request body is longer than its Content-Length')
        : new HttpError('payload_too_large', 'Request body is too large');
    }
    if (body) chunk.copy(body, length);
    else chunks.push(chunk);
    length += chunk.length;
  }
  if (known && length !== declared)
    throw new HttpError('bad_request', 'Request body is shorter than its Content-Length');
  const bytes = body ?? Buffer.concat(chunks, length);
  const text = bytes.toString('utf8');
  // Gives the bytes back now rather than at the next collection: JSON.parse is about to make a
  // third copy. Only a buffer with memory of its own (allocUnsafeSlow, or a concatenation that is not
  // a slice of Node's shared pool) may be detached.
  if (bytes.byteOffset === 0 && bytes.length === bytes.buffer.byteLength) {
    (bytes.buffer as ArrayBuffer & { transfer(length: number): ArrayBuffer }).transfer(0);
  }
  return text;
}
