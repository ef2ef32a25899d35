import { isIP } from 'node:net';

/**
 * One typed, validated configuration object built from the environment.
 *
 * Every variable is declared once in `VARIABLES` (name, default, parser, description); the
 * README table and `.env.example` list the same names, and a unit test keeps them in sync.
 * A bad value stops the process with one line naming the variable and what is wrong.
 */

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;
type Parser<T> = (raw: string) => T;

class ValueError extends Error {}

const integer =
  (min: number, max: number): Parser<number> =>
  (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) throw new ValueError(`must be an integer (got "${raw}")`);
    const n = Number(raw);
    if (n < min || n > max) throw new ValueError(`must be between ${min} and ${max} (got ${n})`);
    return n;
  };

const boolean: Parser<boolean> = (raw) => {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ValueError(`must be true or false (got "${raw}")`);
};

const text: Parser<string> = (raw) => raw.trim();

const nonEmpty: Parser<string> = (raw) => {
  const v = raw.trim();
  if (!v) throw new ValueError('must not be empty');
  return v;
};

const oneOf =
  <T extends string>(...allowed: T[]): Parser<T> =>
  (raw) => {
    const v = raw.trim() as T;
    if (!allowed.includes(v)) throw new ValueError(`must be one of ${allowed.join(', ')} (got "${raw}")`);
    return v;
  };

const list: Parser<string[]> = (raw) =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const httpUrl: Parser<string> = (raw) => {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ValueError(`must be an http(s) URL (got "${raw}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ValueError(`must be an http(s) URL (got "${raw}")`);
  return url.toString().replace(/\/$/, '');
};

const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

/** JWT algorithms: asymmetric only, so a public key can never be used as an HMAC secret. */
const algorithms: Parser<string[]> = (raw) => {
  const items = list(raw);
  if (items.length === 0) throw new ValueError('must list at least one algorithm');
  const bad = items.filter((a) => !ASYMMETRIC_ALGORITHMS.includes(a));
  if (bad.length) throw new ValueError(`may only contain ${ASYMMETRIC_ALGORITHMS.join(', ')} (got ${bad.join(', ')})`);
  return items;
};

/**
 * Which proxies may set X-Forwarded-For: `false`, a hop count, or a comma list of IPs/CIDRs.
 * `true` (trust every hop) is refused: any client could then choose its own IP.
 */
const trustProxy: Parser<false | number | string[]> = (raw) => {
  const v = raw.trim().toLowerCase();
  if (v === '' || v === 'false' || v === '0') return false;
  if (v === 'true' || v === '*')
    throw new ValueError('must be a hop count or a CIDR list of trusted proxies; "true" would trust any client');
  if (/^\d+$/.test(v)) return integer(1, 10)(v);
  const items = list(v);
  for (const item of items) {
    const [addr, prefix, ...rest] = item.split('/');
    const family = isIP(addr ?? '');
    const max = family === 6 ? 128 : 32;
    if (!family || rest.length || (prefix !== undefined && !(/^\d+$/.test(prefix) && Number(prefix) <= max)))
      throw new ValueError(`"${item}" is not an IP address or CIDR`);
  }
  return items;
};

const optionalHttpUrl: Parser<string | undefined> = (raw) => (raw.trim() ? httpUrl(raw) : undefined);

/** Accepts the original gateway's SQLAlchemy-style `postgresql+asyncpg://` URLs too. */
const postgresUrl: Parser<string> = (raw) => {
  const v = raw.trim().replace(/^postgres(ql)?\+\w+:\/\//, 'postgresql://');
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new ValueError('must be a postgresql:// URL');
  }
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:')
    throw new ValueError('must be a postgresql:// URL');
  if (!url.hostname || url.pathname.length < 2) throw new ValueError('must name a host and a database');
  return v;
};

const brokers: Parser<string[]> = (raw) => {
  const items = list(raw);
  if (items.length === 0) throw new ValueError('must list at least one host:port');
  for (const b of items) {
    if (!/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/.test(b)) throw new ValueError(`"${b}" is not host:port`);
  }
  return items;
};

const hostPort: Parser<string> = (raw) => {
  const v = raw.trim();
  if (!/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/.test(v)) throw new ValueError(`must be host:port (got "${raw}")`);
  return v;
};

const topic: Parser<string> = (raw) => {
  const v = raw.trim();
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(v)) throw new ValueError(`is not a valid Kafka topic name (got "${raw}")`);
  return v;
};

/** Durations as milliseconds or with a unit: `500ms`, `30s`, `15m`, `12h`, `7d`. */
const duration: Parser<number> = (raw) => {
  const m = /^(\d+)\s*(ms|s|m|h|d)?$/.exec(raw.trim());
  if (!m) throw new ValueError(`must be a duration like 30s, 15m, 7d or milliseconds (got "${raw}")`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 'ms') as 'ms'];
  const ms = Number(m[1]) * unit;
  if (ms <= 0) throw new ValueError('must be greater than zero');
  return ms;
};

export interface CodecKey {
  id: string;
  key: Buffer;
}

/** `id:base64key[,id2:base64key2]` — the first key encrypts, every key decrypts (rotation by adding a key). */
const codecKeys: Parser<CodecKey[]> = (raw) =>
  list(raw).map((entry) => {
    const idx = entry.indexOf(':');
    if (idx <= 0) throw new ValueError('entries must be keyId:base64Key');
    const id = entry.slice(0, idx);
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) throw new ValueError(`key id "${id}" may only use letters, digits, . _ -`);
    const key = Buffer.from(entry.slice(idx + 1), 'base64');
    if (key.length !== 32) throw new ValueError(`key "${id}" must be 32 bytes of base64 (AES-256), got ${key.length}`);
    return { id, key };
  });

interface Variable<T> {
  default: string;
  parse: Parser<T>;
  description: string;
  secret?: boolean;
}

const v = <T>(def: string, parse: Parser<T>, description: string, secret = false): Variable<T> => ({
  default: def,
  parse,
  description,
  secret,
});

export const DEFAULT_INTERNAL_SERVICE_KEY = 'gateway-secret-key-2024';

/** The single list of environment variables. Order is the order of the README table. */
export const VARIABLES = {
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
  AUTH_SERVICE_URL: v('http://auth-service:8001', httpUrl, 'Base URL of the auth service'),
  AUTH_SERVICE_TIMEOUT_MS: v('8000', integer(100, 120_000), 'Timeout of one call to the auth service'),
  AUTH_SERVICE_RETRIES: v(
    '2',
    integer(0, 10),
    'Retries of idempotent auth-service calls (network errors, 5xx, 429), with backoff and jitter',
  ),
  AUTH_BREAKER_THRESHOLD: v('5', integer(1, 1000), 'Consecutive auth-service failures that open the circuit breaker'),
  AUTH_BREAKER_COOLDOWN_MS: v(
    '10000',
    integer(100, 600_000),
    'How long an open breaker fails calls at once before one trial call',
  ),
  AUTH_JWKS_URL: v('', optionalHttpUrl, 'JWKS of the token issuer; empty = ask the auth service to validate tokens'),
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
  KAFKA_BOOTSTRAP_SERVERS: v('kafka:29092', brokers, 'Brokers for domain events (comma list)'),
  KAFKA_CLIENT_ID: v('api-gateway', nonEmpty, 'Kafka client id'),
  KAFKA_AUTH_EVENTS_TOPIC: v('auth-events', topic, 'Topic of auth events'),
  KAFKA_USER_EVENTS_TOPIC: v('user-events', topic, 'Topic of user events'),
  KAFKA_ORGANIZATION_EVENTS_TOPIC: v('organization-events', topic, 'Topic of organisation events'),
  OUTBOX_RELAY_ENABLED: v(
    'true',
    boolean,
    'Run the outbox relay (publishes domain events to Kafka) in this process; several may run at once',
  ),
  OUTBOX_POLL_INTERVAL_MS: v(
    '250',
    integer(10, 60_000),
    'How often the relay looks for new events (NOTIFY wakes it sooner)',
  ),
  OUTBOX_BATCH_SIZE: v('500', integer(1, 10_000), 'Events the relay publishes per Kafka request'),
  OUTBOX_RELAY_LINGER_MS: v(
    '100',
    integer(0, 1_000),
    'After a partial batch, how long the relay gathers new events before its next round (fewer, larger rounds)',
  ),
  OUTBOX_RETENTION: v(
    '24h',
    duration,
    'How long published events stay in the outbox table for audit and replay before the relay deletes them',
  ),
  OUTBOX_WRITE_BUFFER_EVENTS: v(
    '20000',
    integer(1, 1_000_000),
    'Events a process holds while PostgreSQL is away; when full, requests that emit events answer 503',
  ),
  OUTBOX_WRITE_WAIT_MS: v(
    '2000',
    integer(0, 60_000),
    'Longest a state-changing request waits for its event to commit before it answers with the event held in memory (PostgreSQL slow or away)',
  ),
  ACCESS_EVENTS_BUFFER: v(
    '50000',
    integer(1, 10_000_000),
    'Access events (token_validated, user_info_requested…) one process holds while Kafka is away; when full, the oldest are dropped',
  ),
  ACCESS_EVENTS_LINGER_MS: v(
    '20',
    integer(0, 1_000),
    'How long an access event waits for company before its Kafka request: fewer, larger requests under load',
  ),
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
  CHAT_SERVICE_KAFKA_BOOTSTRAP_SERVERS: v(
    'kafka:29092',
    brokers,
    'Brokers of the chat service (may differ from the event brokers)',
  ),
  CHAT_SERVICE_RESPONSES_TOPIC: v('chat-service-responses', topic, 'Replies and stream chunks from the chat service'),
  CHAT_SERVICE_EVENTS_TOPIC: v('chat-service-events', topic, "The chat service's own events"),
  CHAT_UI_CONVERSATIONS_TOPIC: v('chat-ui-conversations', topic, 'Conversation operations'),
  CHAT_UI_MESSAGES_TOPIC: v('chat-ui-messages', topic, 'Message operations'),
  CHAT_UI_AI_CONVERSATION_TOPIC: v('chat-ui-ai-conversation', topic, 'AI chat (streamed) and chat_cancel'),
  CHAT_UI_GEN_TITLE_TOPIC: v('chat-ui-gen-title', topic, 'Title generation'),
  CHAT_UI_UPLOAD_CONVERSATIONS_TOPIC: v('chat-ui-upload-conversations', topic, 'Conversation import batches'),
  CHAT_UI_PROMPTS_TOPIC: v('chat-ui-prompts', topic, 'Prompt operations'),
  CHAT_UI_DOCUMENTS_TOPIC: v('chat-ui-documents', topic, 'Document operations'),
  CHAT_UI_SETTINGS_TOPIC: v('chat-ui-settings', topic, 'Settings'),
  CHAT_REQUEST_TIMEOUT_MS: v('15000', integer(100, 600_000), 'Deadline of one chat request/reply'),
  CHAT_GEN_TITLE_TIMEOUT_MS: v('60000', integer(100, 600_000), 'Deadline of title generation'),
  CHAT_STREAM_IDLE_TIMEOUT_MS: v('60000', integer(100, 600_000), 'Longest silence inside an AI answer stream'),
  CHAT_UPLOAD_BATCH_SIZE: v('50', integer(1, 1000), 'Conversations per import batch'),
  CHAT_STREAM_GAP_TIMEOUT_MS: v(
    '5000',
    integer(100, 600_000),
    'Longest wait for a missing chunk of an AI answer stream; then the stream ends with an SSE error',
  ),
  CHAT_STREAM_REORDER_MAX: v(
    '256',
    integer(1, 100_000),
    'Chunks an AI answer stream holds past a missing one; more → the stream ends with an SSE error',
  ),
  SSE_WRITE_TIMEOUT_MS: v(
    '30000',
    integer(100, 600_000),
    'Longest wait for a slow SSE client to take a write; then the response ends and the chat request is cancelled',
  ),
  TEMPORAL_ADDRESS: v('localhost:7233', hostPort, 'Temporal frontend (gRPC)'),
  TEMPORAL_NAMESPACE: v('default', nonEmpty, 'Temporal namespace'),
  TEMPORAL_TASK_QUEUE: v('api-gateway', nonEmpty, 'Task queue of the gateway worker'),
  TEMPORAL_CODEC_KEYS: v(
    '',
    codecKeys,
    'Payload encryption keys keyId:base64(32 bytes)[,...]; first encrypts, all decrypt; required in production',
    true,
  ),
  TEMPORAL_SECRETS_KEYS: v(
    '',
    codecKeys,
    'Keys sealing passwords and tokens inside Temporal payloads (only the API and worker hold them, never the codec endpoint) and keying the sign-up credential proof; keyId:base64(32 bytes)[,...]; first seals, all open; required in production',
    true,
  ),
  TEMPORAL_UI_ORIGINS: v(
    'http://localhost:8080,http://127.0.0.1:8080,http://localhost:18233,http://127.0.0.1:18233',
    list,
    'Origins of Temporal UI allowed to call the codec endpoint',
  ),
  CODEC_ENDPOINT_TOKEN: v(
    '',
    text,
    'If set, /codec/* also needs Authorization: Bearer <token> (or X-Internal-Key)',
    true,
  ),
  CODEC_AUTH: v(
    'none',
    oneOf('none', 'jwt'),
    'none: the admin network guards /codec; jwt: also verify the access token Temporal UI passes',
  ),
  CODEC_JWKS_URL: v('', optionalHttpUrl, "JWKS of the operators' token issuer (empty = AUTH_JWKS_URL)"),
  CODEC_ISSUER: v('', text, "Expected iss of operators' tokens (empty = AUTH_ISSUER)"),
  CODEC_OPERATOR_ROLE: v(
    'temporal-operator',
    nonEmpty,
    'Role or group (realm_access.roles, roles or groups claim) an operator token needs for /codec',
  ),
  WORKFLOW_SYNC_TIMEOUT_MS: v(
    '10000',
    integer(100, 600_000),
    'How long an HTTP call waits for a workflow before answering 202',
  ),
  SIGN_UP_CLOCK_SKEW_MS: v(
    '60000',
    integer(0, 3_600_000),
    'Clock skew allowed between Temporal and the auth service: an account created more than this before its sign-up run started was already registered (409)',
  ),
  INVITE_TTL: v('7d', duration, 'Lifetime of an organisation invite (e.g. 7d, 15m, 30s)'),
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
  ROUTES_FILE: v(
    'config/routes.yaml',
    nonEmpty,
    'Route table of the proxied microservices (relative to the working directory); reloaded on SIGHUP',
  ),
  BILLING_SERVICE_URL: v(
    'http://billing-service:8001',
    httpUrl,
    'Base URL of the billing service (the route table interpolates it; sign-up calls it)',
  ),
  BILLING_DEFAULT_PLAN: v('free', text, 'Plan sign-up applies to a new user in billing (empty = none)'),
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

type Vars = typeof VARIABLES;
type Parsed = { [K in keyof Vars]: Vars[K] extends Variable<infer T> ? T : never };

export interface Config extends Parsed {
  isProduction: boolean;
}

export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(VARIABLES) as [string, Variable<unknown>][]) {
    const raw = env[name] ?? spec.default;
    try {
      out[name] = spec.parse(raw);
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
      problems.push(`${name} ${err.message}`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  const config = out as unknown as Config;
  config.isProduction = config.NODE_ENV === 'production';

  if (config.CODEC_AUTH === 'jwt' && !config.CODEC_JWKS_URL && !config.AUTH_JWKS_URL) {
    problems.push('CODEC_AUTH=jwt needs CODEC_JWKS_URL or AUTH_JWKS_URL to verify operator tokens');
  }
  if (config.isProduction) {
    if (config.INTERNAL_SERVICE_KEY === DEFAULT_INTERNAL_SERVICE_KEY) {
      problems.push('INTERNAL_SERVICE_KEY must be changed from its default in production');
    }
    if (config.TEMPORAL_CODEC_KEYS.length === 0) {
      problems.push('TEMPORAL_CODEC_KEYS must be set in production (payloads would otherwise use the development key)');
    }
    if (config.TEMPORAL_SECRETS_KEYS.length === 0) {
      problems.push(
        'TEMPORAL_SECRETS_KEYS must be set in production (secrets would otherwise use the development key)',
      );
    }
    const codecKeys = new Set(config.TEMPORAL_CODEC_KEYS.map((k) => k.key.toString('base64')));
    if (config.TEMPORAL_SECRETS_KEYS.some((k) => codecKeys.has(k.key.toString('base64')))) {
      problems.push(
        'TEMPORAL_SECRETS_KEYS must differ from TEMPORAL_CODEC_KEYS (the codec endpoint must not open secrets)',
      );
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return config;
}

/**
 * For entrypoints: a bad configuration prints one line and exits 1, rather than a stack trace.
 */
export function loadConfigOrExit(env: Env = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
