import type { FastifyInstance, RawRequestDefaultExpression } from 'fastify';

type RawRequest = RawRequestDefaultExpression;
import { requestChildLogger } from '../../src/api/app';
import { createLogger } from '../../src/logger';
import { captureLog } from '../support/log-capture';

/**
 * requestChildLogger reaches into pino's formatters (docs/adr/0008-private-internals.md): this
 * fails loudly if a pino upgrade stops the per-request bindings or redaction from reaching a line.
 */
describe('the per-request child logger', () => {
  function child(level = 'info') {
    const { stream, lines } = captureLog();
    const parent = createLogger(level, {}, stream);
    const children = jest.spyOn(parent, 'child');
    const log = requestChildLogger.call({} as FastifyInstance, parent, { request_id: 'req-1' }, {}, {} as RawRequest);
    return { log, children, lines: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
  }

  it('writes the request id on every line, once, and keeps redaction', () => {
    const { log, lines } = child();
    log.info({ body: { password: 'p-secret' }, status: 200 }, 'done');
    const [line] = lines();
    expect(line).toMatchObject({ request_id: 'req-1', status: 200, msg: 'done' });
    expect(JSON.stringify(line)).not.toContain('p-secret');
  });

  it('passes the request id on to grandchildren', () => {
    const { log, lines } = child();
    log.child({ component: 'x' }).warn('nested');
    expect(lines()[0]).toMatchObject({ request_id: 'req-1', component: 'x', msg: 'nested' });
  });

  it('makes no pino child for a request that writes no line, and one for a request that does', () => {
    const { log, children, lines } = child('warn');
    log.info({ status: 200 }, 'not written at warn');
    log.debug('nor this');
    expect(children).not.toHaveBeenCalled();
    expect(log.level).toBe('warn');
    log.warn({ status: 503 }, 'written');
    log.error('and this');
    expect(children).toHaveBeenCalledTimes(1);
    expect(lines().map((l) => [l.request_id, l.msg])).toEqual([
      ['req-1', 'written'],
      ['req-1', 'and this'],
    ]);
  });

  it('follows a level set on the request logger', () => {
    const { log, lines } = child('warn');
    log.level = 'info';
    log.info('now written');
    expect(lines()[0]).toMatchObject({ request_id: 'req-1', level: 'info', msg: 'now written' });
  });
});
