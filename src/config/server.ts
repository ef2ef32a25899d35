import { integer, nonEmpty, oneOf, postgresUrl, v } from './parse';

/** The server process: environment, listeners, log level and the PostgreSQL it keeps its state in. */
export const SERVER = {
  NODE_ENV: v(
    'development',
    oneOf('development', 'test', 'production'),
    'development, test or production; production refuses insecure defaults',
  ),
  HOST: v('127.0.0.1', nonEmpty, 'Address the HTTP server binds (0.0.0.0 in containers)'),
  PORT: v('8002', integer(1, 65535), 'HTTP port of the gateway'),
  ADMIN_HOST: v(
    '127.0.0.1',
    nonEmpty,
    'Address of the admin listener (/codec, /metrics, internal docs); keep it private',
  ),
  ADMIN_PORT: v('9002', integer(0, 65535), 'Port of the admin listener'),
  LOG_LEVEL: v('info', oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'), 'pino log level'),
  DATABASE_URL: v(
    'postgresql://user:password@db:5432/gateway_db',
    postgresUrl,
    'PostgreSQL of the gateway (outbox, idempotency keys, invites, denylist); postgresql+asyncpg:// is accepted',
    true,
  ),
  DATABASE_POOL_MAX: v('10', integer(1, 500), 'Connections per process'),
} as const;
