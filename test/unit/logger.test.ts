import { createLogger, redactUrl } from '../../src/logger';
import { captureLog } from '../support/log-capture';

function capture() {
  const { stream, lines } = captureLog();
  return { logger: createLogger('info', {}, stream), lines };
}

describe('log redaction', () => {
  it('censors secrets at any depth up to four levels', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        password: 'p1-secret',
        req: {
          headers: {
            authorization: 'Bearer eyJ-secret',
            cookie: 'access_token=c-secret',
            'x-internal-key': 'ik-secret',
          },
        },
        body: { refresh_token: 'rt-secret', nested: { access_token: 'at-secret', invite_token: 'inv-secret' } },
        user: { email: 'visible@example.com' },
      },
      'login',
    );
    const out = lines.join('');
    for (const secret of ['p1-secret', 'eyJ-secret', 'c-secret', 'ik-secret', 'rt-secret', 'at-secret', 'inv-secret']) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain('[REDACTED]');
    expect(out).toContain('visible@example.com');
  });

  it('redacts tokens in query strings', () => {
    expect(redactUrl('/auth/validate?token=abc.def&x=1')).toBe('/auth/validate?token=[REDACTED]&x=1');
    expect(redactUrl('/x?a=1&refresh_token=zzz')).toBe('/x?a=1&refresh_token=[REDACTED]');
    expect(redactUrl('/plain/path')).toBe('/plain/path');
  });

  it.each([
    ['/auth/validate?%74oken=abc.def', '/auth/validate?%74oken=[REDACTED]'],
    ['/auth/validate?%54OKEN=abc.def&x=1', '/auth/validate?%54OKEN=[REDACTED]&x=1'],
    ['/auth/validate?%2574oken=abc.def', '/auth/validate?%2574oken=[REDACTED]'],
    ['/auth/validate?Token=abc.def', '/auth/validate?Token=[REDACTED]'],
    ['/auth/validate?token[]=abc.def', '/auth/validate?token[]=[REDACTED]'],
    ['/x?access%5Ftoken=abc', '/x?access%5Ftoken=[REDACTED]'],
    ['/x?a=1&%70assword=hunter2', '/x?a=1&%70assword=[REDACTED]'],
  ])('redacts an encoded secret parameter: %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });
});
