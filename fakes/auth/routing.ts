import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DetailError, RequestValidationError, UnexpectedError } from './validation';

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
export type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
export type Route = (method: Method, url: string, handler: Handler) => void;

interface RouteEntry {
  method: string;
  url: string;
  pattern: RegExp;
}

function toPattern(url: string): RegExp {
  const escaped = url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z_]+/g, '[^/]+');
  return new RegExp(`^${escaped}$`);
}

function splitUrl(url: string): { path: string; query: string } {
  const i = url.indexOf('?');
  return i === -1 ? { path: url, query: '' } : { path: url.slice(0, i), query: url.slice(i) };
}

/** The routes registered, in order: for 405 answers, slash redirects and /openapi.json. */
export class RouteTable {
  readonly entries: RouteEntry[] = [];

  constructor(private readonly app: FastifyInstance) {}

  readonly route: Route = (method, url, handler) => {
    this.app.route({ method, url, handler });
    this.entries.push({ method, url, pattern: toPattern(url) });
    if (method === 'GET') this.entries.push({ method: 'HEAD', url, pattern: toPattern(url) });
  };

  methodsFor(path: string): string[] {
    return this.entries.filter((r) => r.pattern.test(path)).map((r) => r.method);
  }
}

/** The service's (FastAPI's) answers to bad bodies, errors, unknown paths and wrong methods. */
export function installErrorAnswers(app: FastifyInstance, table: RouteTable, baseUrl: () => string): void {
  // Bodies are read as text and parsed per route, so malformed JSON or a missing or wrong content
  // type get FastAPI's 422 answers instead of Fastify's 400/415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof DetailError) return reply.code(error.statusCode).send({ detail: error.detail });
    if (error instanceof RequestValidationError) return reply.code(422).send({ detail: error.issues });
    const status = (error as { statusCode?: unknown }).statusCode;
    if (!(error instanceof UnexpectedError) && typeof status === 'number' && status >= 400 && status < 500) {
      return reply.code(status).send({ detail: (error as Error).message });
    }
    request.log.error({ err: error }, 'auth fake: unexpected failure');
    return reply.code(500).type('text/plain; charset=utf-8').send('Internal Server Error');
  });

  app.setNotFoundHandler((request, reply) => {
    const { path, query } = splitUrl(request.url);
    // Starlette's redirect_slashes: the same path without the slash exists → 307 to its absolute URL.
    if (path.length > 1 && path.endsWith('/')) {
      const stripped = path.replace(/\/+$/, '') || '/';
      if (table.methodsFor(stripped).length > 0) {
        const origin = request.headers.host ? `http://${request.headers.host}` : baseUrl();
        return reply.code(307).header('location', `${origin}${stripped}${query}`).send();
      }
    }
    const allowed = table.methodsFor(path);
    if (allowed.length > 0) {
      return reply.code(405).header('allow', allowed.join(', ')).send({ detail: 'Method Not Allowed' });
    }
    return reply.code(404).send({ detail: 'Not Found' });
  });
}
