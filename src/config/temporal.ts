import { codecKeys, duration, hostPort, integer, list, nonEmpty, oneOf, optionalHttpUrl, text, v } from './parse';

/** Temporal, its payload codec endpoint and the workflow-backed routes. */
export const TEMPORAL = {
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
} as const;
