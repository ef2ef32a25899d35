import type { ActivityOptions } from '@temporalio/workflow';

/** Failure type of an upstream refusal (activities throw it non-retryable). */
export const UPSTREAM_REJECTED = 'UpstreamRejected';

/**
 * Activities that call the auth service: retry network errors, 5xx and 429 with backoff for as
 * long as it takes (the auth service may be down for a while); a refusal fails at once.
 */
export const UPSTREAM_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '20s',
  retry: {
    initialInterval: '500ms',
    backoffCoefficient: 2,
    maximumInterval: '10s',
    nonRetryableErrorTypes: [UPSTREAM_REJECTED],
  },
};

/** Activities that write to PostgreSQL (idempotent writes): retry until the database answers. */
export const DATABASE_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '30s' },
};
