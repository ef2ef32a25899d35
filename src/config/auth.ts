import { DEFAULT_MAX_ANSWER_BYTES, MAX_ANSWER_BYTES_CEILING } from '../upstreams/pool-call';
import { algorithms, httpUrl, integer, optionalHttpUrl, text, trustProxy, v } from './parse';

/** The auth service, token verification and the credential rate limits. */
export const AUTH = {
  AUTH_SERVICE_URL: v('http://auth-service:8001', httpUrl, 'Base URL of the auth service'),
  AUTH_SERVICE_TIMEOUT_MS: v('8000', integer(100, 120_000), 'Timeout of one call to the auth service'),
  AUTH_SERVICE_RETRIES: v(
    '2',
    integer(0, 10),
    'Retries of idempotent auth-service calls (network errors, 5xx, 429), with backoff and jitter',
  ),
  AUTH_SERVICE_MAX_ANSWER_BYTES: v(
    String(DEFAULT_MAX_ANSWER_BYTES),
    integer(1024, MAX_ANSWER_BYTES_CEILING),
    'Longest auth-service answer body the gateway reads; a longer one is cut off and answered 502',
  ),
  AUTH_BREAKER_THRESHOLD: v('5', integer(1, 1000), 'Consecutive auth-service failures that open the circuit breaker'),
  AUTH_BREAKER_COOLDOWN_MS: v(
    '10000',
    integer(100, 600_000),
    'How long an open breaker fails calls at once before one trial call',
  ),
  AUTH_BREAKER_STALL_MS: v(
    '1000',
    integer(0, 120_000),
    'Open the breaker when AUTH_BREAKER_THRESHOLD calls have waited this long with no answer at all meanwhile (a frozen service); 0 = off',
  ),
  AUTH_JWKS_URL: v(
    '',
    optionalHttpUrl,
    'JWKS of the token issuer; empty = ask the auth service to validate tokens; it must answer itself (redirects are not followed), within 5 s and 1 MiB',
  ),
  AUTH_JWKS_REFRESH_FLOOR_MS: v(
    '30000',
    integer(0, 3_600_000),
    'Shortest interval between two JWKS fetches triggered by an unknown kid',
  ),
  AUTH_ALGORITHMS: v('RS256', algorithms, 'Accepted JWT signature algorithms (asymmetric only)'),
  RATE_LIMIT_AUTH_PER_IP: v(
    '30',
    integer(1, 1_000_000),
    'Credential requests (sign-in, sign-up, refresh, change-password, invite) per minute per client IP and route',
  ),
  RATE_LIMIT_AUTH_PER_ACCOUNT: v(
    '10',
    integer(1, 1_000_000),
    'Credential requests per minute per account (e-mail or user) and route',
  ),
  TRUST_PROXY: v(
    'false',
    trustProxy,
    'X-Forwarded-For hops to trust for the client IP: false, a hop count, or a CIDR list of proxies (never true)',
  ),
  USER_CONTEXT_CACHE_TTL_MS: v(
    '30000',
    integer(0, 300_000),
    'How long /v1/client/me (active org, role) is cached per token for chat user_context',
  ),
  AUTH_ISSUER: v('', text, 'Expected iss claim (empty = not checked; set it in production)'),
  AUTH_AUDIENCE: v('', text, 'Expected aud claim (optional)'),
  AUTH_AUTHORIZED_PARTY: v('', text, 'Expected azp claim (optional)'),
} as const;
