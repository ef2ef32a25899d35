import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';

/**
 * Activities that call the auth service: retry network errors, 5xx and 429 with backoff for as
 * long as it takes (the auth service may be down for a while); a refusal fails at once (activities
 * throw it as a non-retryable `httpFailure`).
 */
export const UPSTREAM_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '20s',
  retry: {
    initialInterval: '500ms',
    backoffCoefficient: 2,
    maximumInterval: '10s',
  },
};

/**
 * The same policy for a local activity (runs inside the worker's workflow task, so no activity
 * task round trip through the server). Short backoffs retry in the worker; once the backoff
 * exceeds `localRetryThreshold` the retry waits on a durable timer instead.
 */
export const UPSTREAM_LOCAL_ACTIVITY: LocalActivityOptions = {
  startToCloseTimeout: UPSTREAM_ACTIVITY.startToCloseTimeout,
  retry: UPSTREAM_ACTIVITY.retry,
  localRetryThreshold: '5s',
};

/** Activities that write to PostgreSQL (idempotent writes): retry until the database answers. */
export const DATABASE_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '30s' },
};

/** The same for a short local write (no activity task round trip); long backoffs wait on a durable timer. */
export const DATABASE_LOCAL_ACTIVITY: LocalActivityOptions = {
  startToCloseTimeout: DATABASE_ACTIVITY.startToCloseTimeout,
  retry: DATABASE_ACTIVITY.retry,
  localRetryThreshold: '5s',
};
