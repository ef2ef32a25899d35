import { HttpError, clientSafeDetail, type ErrorCode } from '../errors';

const CODES: Record<string, ErrorCode> = {
  not_found: 'not_found',
  validation_error: 'validation_error',
  forbidden: 'forbidden',
  conflict: 'conflict',
  unavailable: 'upstream_unavailable',
  internal: 'upstream_error',
};

const GENERIC: Partial<Record<ErrorCode, string>> = {
  not_found: 'Not found',
  validation_error: 'The chat service rejected the request',
  forbidden: 'Forbidden',
  conflict: 'Conflict',
  upstream_unavailable: 'The chat service is unavailable',
  upstream_error: 'The chat service failed',
};

/**
 * A chat `error` as an HttpError (chat-kafka.md → Reply). 4xx keep the chat service's message
 * (front ends show it) when it is short and leaks nothing internal (SQL, stack traces), as auth
 * ones do; 5xx never pass upstream text on. Older servers send a plain string:
 * "…not found…" → 404, anything else → 502.
 */
export function chatErrorToHttp(error: unknown): HttpError {
  if (typeof error === 'string') {
    return /not found/i.test(error)
      ? new HttpError('not_found', 'Not found')
      : new HttpError('upstream_error', GENERIC.upstream_error!);
  }
  if (error && typeof error === 'object') {
    const { code, message } = error as { code?: unknown; message?: unknown };
    const mapped = (typeof code === 'string' && CODES[code]) || 'upstream_error';
    const status = new HttpError(mapped, '').status;
    if (mapped === 'upstream_unavailable') return chatUnavailable();
    const detail = (status < 500 && clientSafeDetail(message)) || GENERIC[mapped]!;
    return new HttpError(mapped, detail);
  }
  return new HttpError('upstream_error', GENERIC.upstream_error!);
}

export const chatTimeout = () =>
  new HttpError('upstream_timeout', 'The chat service did not answer in time', { transient: true });
/** 503 with Retry-After: the link to the chat service comes back by itself within seconds. */
export const chatUnavailable = (detail = 'The chat service is unavailable') =>
  new HttpError('upstream_unavailable', detail, { transient: true, headers: { 'retry-after': '2' } });
