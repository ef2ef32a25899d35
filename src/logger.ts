import pino, { type LoggerOptions } from 'pino';

/**
 * Fields that may carry secrets anywhere in a logged object. pino's redaction is path based, so
 * the common nesting depths are listed explicitly (wildcards match one level).
 */
const SECRET_KEYS = [
  'authorization',
  'cookie',
  'set-cookie',
  'x-internal-key',
  'password',
  'old_password',
  'new_password',
  'token',
  'access_token',
  'refresh_token',
  'invite_token',
  'jwt',
  'secret',
  'internalKey',
];

export const REDACT_PATHS: string[] = SECRET_KEYS.flatMap((k) => {
  const key = /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? `.${k}` : `["${k}"]`;
  return [key.startsWith('.') ? k : key, `*${key}`, `*.*${key}`, `*.*.*${key}`];
});

/** Query parameters whose values must never reach a log line (e.g. `/auth/validate?token=`). */
const SECRET_PARAMS = new Set([
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'invite_token',
  'password',
  'key',
  'jwt',
  'secret',
]);

/** A parameter name as the server reads it: percent-decoded (repeatedly: `%2574` too), case-folded. */
function paramName(raw: string): string {
  let name = raw.replace(/\+/g, ' ');
  for (let i = 0; i < 3 && name.includes('%'); i++) {
    try {
      name = decodeURIComponent(name);
    } catch {
      break;
    }
  }
  return name.trim().toLowerCase().replace(/\[\]$/, '');
}

export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const query = url
    .slice(q + 1)
    .split('&')
    .map((part) => {
      const eq = part.indexOf('=');
      return eq > 0 && SECRET_PARAMS.has(paramName(part.slice(0, eq))) ? `${part.slice(0, eq)}=[REDACTED]` : part;
    });
  return `${url.slice(0, q + 1)}${query.join('&')}`;
}

export function loggerOptions(level: string, base: Record<string, unknown> = {}): LoggerOptions {
  return {
    level,
    base: { service: 'api-gateway', ...base },
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    formatters: { level: (label) => ({ level: label }) },
  };
}

export function createLogger(level: string, base: Record<string, unknown> = {}, destination?: pino.DestinationStream) {
  return destination ? pino(loggerOptions(level, base), destination) : pino(loggerOptions(level, base));
}

export type Logger = pino.Logger;
