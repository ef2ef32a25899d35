import { ApplicationFailure } from '@temporalio/activity';
import type { HttpError } from '../errors';
import { reshapeAuthError } from '../upstreams/auth-service';

import { UPSTREAM_REJECTED } from '../workflows/policies';

/**
 * An upstream refusal as a non-retryable failure carrying the gateway error code (the route turns
 * it back into that HTTP status).
 */
export function upstreamRejected(err: HttpError): ApplicationFailure {
  return ApplicationFailure.create({
    type: UPSTREAM_REJECTED,
    message: err.detail,
    nonRetryable: true,
    details: [{ code: err.code, status: err.status }],
  });
}

/** The upstream answer `status` refused the call: reshaped into the gateway vocabulary. */
export function upstreamRefusal(status: number, body: unknown): ApplicationFailure {
  return upstreamRejected(reshapeAuthError(status, body));
}

/** 5xx and 429 may pass: let Temporal retry with backoff. */
export const retryableStatus = (status: number) => status >= 500 || status === 429;
