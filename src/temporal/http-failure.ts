/**
 * How "this workflow or activity failure means HTTP status X with error code Y" travels through
 * Temporal: one ApplicationFailure type whose details say which answer. Activities and workflows
 * encode with `httpFailure`, the API decodes with `httpErrorOf`. No I/O here: workflows import it.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ERROR_STATUS, HttpError, type ErrorCode } from '../errors';

/** The ApplicationFailure type of every failure that stands for an HTTP answer. */
export const HTTP_FAILURE = 'HttpFailure';

/** The failure's details. Temporal UI shows them to operators: never a secret or an upstream body. */
export interface HttpFailureDetails {
  status: number;
  code: ErrorCode;
  detail: string;
}

/**
 * The failure an activity or workflow throws for the answer `error` (an HttpError or its code and
 * detail). Final by default: a refusal does not change on retry; `retryable` lets Temporal retry
 * one (e.g. a chat timeout) under the activity's retry policy.
 */
export function httpFailure(
  error: Pick<HttpError, 'code' | 'detail'>,
  options: { retryable?: boolean } = {},
): ApplicationFailure {
  const details: HttpFailureDetails = { status: ERROR_STATUS[error.code], code: error.code, detail: error.detail };
  return ApplicationFailure.create({
    type: HTTP_FAILURE,
    message: error.detail,
    nonRetryable: options.retryable !== true,
    details: [details],
  });
}

/** Types older code recorded (histories outlive a deploy): an auth refusal kept its code in the details. */
const LEGACY_UPSTREAM_REJECTED = 'UpstreamRejected';

function decode(failure: ApplicationFailure): HttpError | undefined {
  const details = failure.details?.[0] as Partial<HttpFailureDetails> | undefined;
  let code: unknown;
  if (failure.type === HTTP_FAILURE || failure.type === LEGACY_UPSTREAM_REJECTED) code = details?.code;
  // Chat failures recorded by older code were typed with the code itself.
  else if (failure.type && Object.hasOwn(ERROR_STATUS, failure.type)) code = failure.type;
  if (typeof code !== 'string' || !Object.hasOwn(ERROR_STATUS, code)) return undefined;
  const detail = typeof details?.detail === 'string' ? details.detail : failure.message;
  return new HttpError(code as ErrorCode, detail);
}

/**
 * The HttpError a failed workflow or update stands for: the first `httpFailure` in the error's
 * cause chain (WorkflowFailedError → ActivityFailure → ApplicationFailure…), else undefined (the
 * caller answers its own generic error).
 */
export function httpErrorOf(err: unknown): HttpError | undefined {
  let cause = err;
  while (cause instanceof Error) {
    const decoded = cause instanceof ApplicationFailure ? decode(cause) : undefined;
    if (decoded) return decoded;
    cause = cause.cause;
  }
  return undefined;
}
