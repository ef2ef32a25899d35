import { ERROR_STATUS, HttpError, type ErrorCode, type FieldError } from '../errors';
import { errors as undiciErrors } from './undici-lean';

/** Whether an upstream call ran out of time: undici's header or body timeout, or the deadline's abort. */
export function isUpstreamTimeout(err: unknown): boolean {
  // By name, not `instanceof Error`: the deadline's DOMException may come from another realm.
  const name = (err as { name?: unknown } | null)?.name;
  return (
    err instanceof undiciErrors.HeadersTimeoutError ||
    err instanceof undiciErrors.BodyTimeoutError ||
    name === 'TimeoutError' ||
    name === 'AbortError'
  );
}

/** Upstream text that must never reach a client, even inside a 4xx `detail`. */
const LEAKY_DETAIL =
  /(sqlalchemy|psycopg|asyncpg|traceback|select\s.+\sfrom|insert\s+into|duplicate key|violates|exception|stack|\.py\b|errno)/i;

/** `{"detail": "…"}`, or billing's quota error `{"detail": {"code", "detail"}}`. */
function detailOf(body: unknown): string | undefined {
  if (!body || typeof body !== 'object' || !('detail' in body)) return undefined;
  const d = body.detail;
  if (typeof d === 'string') return d;
  if (d && typeof d === 'object' && 'detail' in d && typeof d.detail === 'string') return d.detail;
  return undefined;
}

function fieldErrorsOf(body: unknown): FieldError[] {
  const detail = (body as { detail?: unknown } | null)?.detail;
  if (!Array.isArray(detail)) return [];
  return (detail as { loc?: unknown[]; msg?: unknown }[]).map((e) => ({
    field: (Array.isArray(e.loc) ? e.loc : []).filter((p) => p !== 'body').join('.') || 'body',
    message: typeof e.msg === 'string' ? e.msg : 'is invalid',
  }));
}

export function parseJson(body: Buffer | string): unknown {
  try {
    return JSON.parse(body.toString());
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
    return new HttpError('validation_error', 'Request validation failed', { errors: fieldErrorsOf(body) });
  }
  if (status === 503) return new HttpError('upstream_unavailable', `${service} is unavailable`);
  if (status === 504) return new HttpError('upstream_timeout', `${service} timed out`);
  if (status >= 500 || status < 400) return new HttpError('upstream_error', `${service} error`);
  const raw = detailOf(body);
  const detail = raw && !LEAKY_DETAIL.test(raw) && raw.length <= 300 ? raw : undefined;
  const code = (Object.entries(ERROR_STATUS).find(([, s]) => s === status)?.[0] ?? 'bad_request') as ErrorCode;
  const headers: Record<string, string> | undefined = status === 429 ? { 'retry-after': '1' } : undefined;
  return new HttpError(code, detail ?? `${service} refused the request`, { headers });
}
