/**
 * The gateway's error vocabulary (gateway-http.md, Conventions → Errors). Code anywhere throws an
 * `HttpError`; the API's error handler is the one place that turns it into a response.
 */

export const ERROR_STATUS = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  conflict: 409,
  gone: 410,
  payload_too_large: 413,
  uri_too_long: 414,
  unsupported_media_type: 415,
  validation_error: 422,
  rate_limited: 429,
  header_too_large: 431,
  internal: 500,
  upstream_error: 502,
  upstream_unavailable: 503,
  upstream_timeout: 504,
  overloaded: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface FieldError {
  field: string;
  message: string;
}

export class HttpError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly extra: {
      errors?: FieldError[];
      headers?: Record<string, string>;
      transient?: boolean;
      /** Safe context for the one log line the error handler writes (never a secret or upstream body). */
      log?: Record<string, unknown>;
    } = {},
  ) {
    super(detail);
    this.name = 'HttpError';
    this.status = ERROR_STATUS[code];
  }

  /** A transport failure (no answer, timeout) that a retry may fix. */
  get transient(): boolean {
    return this.extra.transient === true;
  }
}

export interface ErrorBody {
  detail: string;
  code: ErrorCode;
  request_id: string;
  errors?: FieldError[];
}

/** Upstream text that must never reach a client, even inside a 4xx `detail`. */
const LEAKY_DETAIL =
  /(sqlalchemy|psycopg|asyncpg|traceback|select\s.+\sfrom|insert\s+into|duplicate key|violates|keycloak|exception|stack|\.py\b|errno)/i;

/**
 * An upstream's 4xx message as a client may see it: a short human sentence, else undefined (the
 * caller then answers its generic text). SQL, stack traces and internal names never pass.
 */
export function clientSafeDetail(raw: unknown, maxLength = 300): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const detail = raw.trim();
  return detail && detail.length <= maxLength && !LEAKY_DETAIL.test(detail) ? detail : undefined;
}
