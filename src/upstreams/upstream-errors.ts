import { ERROR_STATUS, HttpError, clientSafeDetail, type ErrorCode, type FieldError } from '../errors';

/** `{"detail": "…"}`, or billing's quota error `{"detail": {"code", "detail"}}`. */
export function detailOf(body: unknown): string | undefined {
  if (!body || typeof body !== 'object' || !('detail' in body)) return undefined;
  const d = body.detail;
  if (typeof d === 'string') return d;
  if (d && typeof d === 'object' && 'detail' in d && typeof d.detail === 'string') return d.detail;
  return undefined;
}

/** FastAPI's 422 list `{"detail": [{loc, msg}]}` as the gateway's `errors`; undefined for any other body. */
export function fieldErrorsOf(body: unknown): FieldError[] | undefined {
  const detail = (body as { detail?: unknown } | null)?.detail;
  if (!Array.isArray(detail)) return undefined;
  return (detail as { loc?: unknown[]; msg?: unknown }[]).map((e) => ({
    field: (Array.isArray(e.loc) ? e.loc : []).filter((p) => p !== 'body').join('.') || 'body',
    message: typeof e.msg === 'string' ? e.msg : 'is invalid',
  }));
}

/** An answer's body as text, without a leading byte-order mark (as `fetch`'s text() and json() drop it). */
export function bodyText(body: Buffer): string {
  const text = body.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** An upstream's JSON answer, or undefined when it is not JSON; a leading byte-order mark is dropped (see bodyText). */
export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(bodyText(body));
  } catch {
    return undefined;
  }
}

/**
 * An upstream's error answer in the gateway's error format: a 4xx keeps its status and a string
 * `detail` (FastAPI 422 lists become `errors`); a 5xx never passes its body through.
 */
export function reshapeUpstreamError(service: string, status: number, body: unknown): HttpError {
  if (status === 422) {
    return new HttpError('validation_error', 'Request validation failed', { errors: fieldErrorsOf(body) ?? [] });
  }
  if (status === 503) return new HttpError('upstream_unavailable', `${service} is unavailable`);
  if (status === 504) return new HttpError('upstream_timeout', `${service} timed out`);
  if (status >= 500 || status < 400) return new HttpError('upstream_error', `${service} error`);
  const detail = clientSafeDetail(detailOf(body));
  const code = (Object.entries(ERROR_STATUS).find(([, s]) => s === status)?.[0] ?? 'bad_request') as ErrorCode;
  const headers: Record<string, string> | undefined = status === 429 ? { 'retry-after': '1' } : undefined;
  return new HttpError(code, detail ?? `${service} refused the request`, { headers });
}
