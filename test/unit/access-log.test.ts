import Fastify, { LogController } from 'fastify';
import { requestChildLogger } from '../../src/api/app';
import accessLog from '../../src/api/plugins/access-log';
import requestHooks from '../../src/api/plugins/request-hooks';
import { createProcessLogger } from '../../src/logger';
import { captureLog } from '../support/log-capture';

/** The access line is written by a logger made once, without pino's redaction: same line as before. */
describe('the access log line', () => {
  async function app(level = 'info') {
    const { stream, lines } = captureLog();
    const logger = createProcessLogger(level, 'api', stream);
    const server = Fastify({
      loggerInstance: logger,
      childLoggerFactory: requestChildLogger,
      genReqId: (req) => String(req.headers['x-request-id'] ?? 'req-1'),
      logController: new LogController({ requestIdLogLabel: 'request_id', disableRequestLogging: true }),
    });
    await server.register(requestHooks);
    await server.register(accessLog);
    server.get('/me', async () => ({ ok: true }));
    server.get('/quiet', { logLevel: 'warn' }, async () => ({ ok: true }));
    await server.ready();
    const children = jest.spyOn(logger, 'child');
    const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    return { server, children, lines, parsed };
  }

  it('has the request id, method, redacted URL, status and ms, in that order, and no per-request child', async () => {
    const { server, children, lines, parsed } = await app();
    const res = await server.inject({ url: '/me?token=t-secret&x=1', headers: { 'x-request-id': 'req-7' } });
    expect(res.headers['x-request-id']).toBe('req-7');
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('t-secret');
    const [line] = parsed();
    expect(Object.keys(line!)).toEqual([
      'level',
      'time',
      'service',
      'role',
      'request_id',
      'method',
      'url',
      'status',
      'ms',
      'msg',
    ]);
    expect(line).toMatchObject({
      level: 'info',
      service: 'api-gateway',
      role: 'api',
      request_id: 'req-7',
      method: 'GET',
      url: '/me?token=[REDACTED]&x=1',
      status: 200,
      msg: 'request completed',
    });
    expect(typeof line!.ms).toBe('number');
    expect(children).not.toHaveBeenCalled();
    await server.close();
  });

  it('is not written above info, nor on a route whose own level is above info', async () => {
    const quiet = await app('warn');
    await quiet.server.inject({ url: '/me' });
    expect(quiet.lines).toHaveLength(0);
    await quiet.server.close();
    const { server, parsed } = await app();
    await server.inject({ url: '/quiet' });
    await server.inject({ url: '/me' });
    expect(parsed().map((l) => l.url)).toEqual(['/me']);
    await server.close();
  });
});
