import { httpFailure } from '../temporal/http-failure';
import { reshapeAuthError } from '../upstreams/auth-service';

/** 5xx and 429 may pass: let Temporal retry with backoff. */
export const retryableStatus = (status: number) => status >= 500 || status === 429;

/**
 * The failure for an auth-service answer that is not a success: a plain error Temporal retries
 * (5xx, 429), else the refusal in the gateway vocabulary as a final `httpFailure` (the route
 * answers with its status and code). `ownRefusal` is for a refusal that is not the caller's fault
 * (e.g. a wrong internal key): an `upstream_error` with that detail instead of the upstream's 4xx.
 */
export function authServiceFailure(status: number, body: unknown, ownRefusal?: string): Error {
  if (retryableStatus(status)) return new Error(`auth service answered ${status}`);
  return httpFailure(ownRefusal ? { code: 'upstream_error', detail: ownRefusal } : reshapeAuthError(status, body));
}
