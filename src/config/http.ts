import { boolean, integer, list, v } from './parse';

/** The HTTP front door: CORS, cookies, body limits, per-user limits, timeouts and shutdown. */
export const HTTP = {
  CORS_ORIGINS: v('', list, 'Browser origins allowed to call the API (comma list; empty = none)'),
  COOKIE_SECURE: v('true', boolean, 'Secure flag on the cookies the gateway sets'),
  BODY_LIMIT_BYTES: v('1048576', integer(1024, 104_857_600), 'Largest JSON body'),
  DOCUMENT_BODY_LIMIT_BYTES: v('26214400', integer(1024, 1_073_741_824), 'Largest document upload'),
  UPLOAD_CONCURRENCY_PER_PROCESS: v(
    '4',
    integer(1, 1000),
    'Document uploads one gateway process receives at once; more → 503 upstream_unavailable + Retry-After',
  ),
  UPLOAD_CONCURRENCY_PER_USER: v(
    '2',
    integer(1, 1000),
    'Document uploads one user sends at once (per process); more → 429 rate_limited + Retry-After',
  ),
  CHAT_STREAMS_PER_USER: v(
    '4',
    integer(1, 1000),
    'Open AI answer streams (POST /api/conversation/) per user and process; more → 429 rate_limited',
  ),
  CHAT_SETTINGS_CACHE_MS: v(
    '5000',
    integer(0, 3_600_000),
    'How long the public GET /api/chat/settings/ answer is reused before asking the chat service again (0 = never)',
  ),
  REQUEST_TIMEOUT_MS: v('30000', integer(1000, 3_600_000), 'Server-side limit for receiving a whole request'),
  SHUTDOWN_GRACE_MS: v('10000', integer(0, 600_000), 'Time in-flight requests get to finish on SIGTERM'),
  SHUTDOWN_DRAIN_MS: v(
    '10000',
    integer(1000, 600_000),
    'Time after the grace for flushing buffered events and closing clients on SIGTERM (the process exits after both)',
  ),
  HEALTH_CHECK_TIMEOUT_MS: v('2000', integer(100, 60_000), 'Timeout of each dependency probe in /health/ready'),
} as const;

/** When new requests get 503 overloaded. */
export const LOAD_SHEDDING = {
  LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: v(
    '1000',
    integer(0, 60_000),
    'Event-loop delay above which new requests get 503 overloaded (load shedding; 0 = off)',
  ),
  LOAD_SHED_MAX_HEAP_USED_BYTES: v(
    '0',
    integer(0, 68_719_476_736),
    'Heap use above which new requests get 503 overloaded (0 = off)',
  ),
} as const;
