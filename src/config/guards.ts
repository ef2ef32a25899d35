import { duration, integer, nonEmpty, v } from './parse';

export const DEFAULT_INTERNAL_SERVICE_KEY = 'gateway-secret-key-2024';

/** Logout denylist, Idempotency-Key replay and the key other services present on /auth/*. */
export const GUARDS = {
  DENYLIST_MAX_STALENESS: v(
    '60s',
    duration,
    'While PostgreSQL is unreachable, how long after losing it a replica keeps checking tokens against its in-memory logout denylist before answering 503 (logout itself answers 503 throughout)',
  ),
  IDEMPOTENCY_TTL: v('24h', duration, 'How long the answer to an Idempotency-Key is kept for replay (e.g. 24h)'),
  IDEMPOTENCY_LOCK_MS: v(
    '60000',
    integer(1000, 3_600_000),
    'How long an Idempotency-Key claim outlives its request without renewal (a crashed request frees its key after this); renewed every third of it while the request runs',
  ),
  INTERNAL_SERVICE_KEY: v(
    DEFAULT_INTERNAL_SERVICE_KEY,
    nonEmpty,
    'X-Internal-Key that other services present on /auth/*; the default is refused in production',
    true,
  ),
} as const;
