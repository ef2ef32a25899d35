import Fastify from 'fastify';
import { createLogger } from '../../src/logger';
import requestHooks from '../../src/api/plugins/request-hooks';
import { captureLog } from '../support/log-capture';

describe('the merged request hooks', () => {
  async function app() {
    const { stream, lines } = captureLog();
    const server = Fastify({ loggerInstance: createLogger('info', {}, stream) });
    await server.register(requestHooks);
    const seen: string[] = [];
    server.requestSteps.onRequest.push(
      (request) => seen.push(`first ${request.url}`),
      (request) => {
        if (request.url === '/refused') throw Object.assign(new Error('refused here'), { statusCode: 403 });
        seen.push(`second ${request.url}`);
      },
    );
    server.requestSteps.onResponse.push(
      () => {
        throw new Error('a failing step');
      },
      (request, reply) => seen.push(`done ${request.url} ${reply.statusCode}`),
    );
    server.get('/ok', async () => ({ ok: true }));
    server.get('/refused', async () => ({ ok: true }));
    const address = await server.listen({ host: '127.0.0.1', port: 0 });
    const get = async (path: string) => {
      const res = await fetch(`${address}${path}`);
      return { status: res.status, body: await res.json() };
    };
    return { server, seen, lines, get };
  }

  it('runs every step in order, and answers with the error of an onRequest step that throws', async () => {
    const { server, seen, get } = await app();
    expect((await get('/ok')).status).toBe(200);
    const refused = await get('/refused');
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ message: 'refused here' });
    expect(seen).toEqual(['first /ok', 'second /ok', 'done /ok 200', 'first /refused', 'done /refused 403']);
    await server.close();
  });

  it('logs an onResponse step that throws and still runs the next ones', async () => {
    const { server, seen, lines, get } = await app();
    await get('/ok');
    expect(seen).toContain('done /ok 200');
    expect(lines.join('')).toContain('onResponse step failed');
    await server.close();
  });
});
