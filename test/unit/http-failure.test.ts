import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import {
  ActivityFailure,
  ApplicationFailure,
  DefaultFailureConverter,
  RetryState,
  defaultPayloadConverter,
} from '@temporalio/common';
import { HttpError } from '../../src/errors';
import { HTTP_FAILURE, httpErrorOf, httpFailure } from '../../src/temporal/http-failure';

/** The failure as it comes back from the server: serialised and deserialised by the SDK's converter. */
function throughTemporal(err: Error): Error {
  const converter = new DefaultFailureConverter();
  return converter.failureToError(converter.errorToFailure(err, defaultPayloadConverter), defaultPayloadConverter);
}

const activityFailed = (cause: Error) =>
  new ActivityFailure('Activity task failed', 'anActivity', '1', RetryState.NON_RETRYABLE_FAILURE, 'worker', cause);

describe('httpFailure / httpErrorOf (an HTTP answer through Temporal)', () => {
  it('encodes the status, code and detail, final unless asked to be retryable', () => {
    const failure = httpFailure(new HttpError('gone', 'This invite has expired'));
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.type).toBe(HTTP_FAILURE);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.details).toEqual([{ status: 410, code: 'gone', detail: 'This invite has expired' }]);
    expect(httpFailure({ code: 'upstream_timeout', detail: 'late' }, { retryable: true }).nonRetryable).toBe(false);
  });

  it('carries nothing of the HttpError but its status, code and detail (failures are shown in Temporal UI)', () => {
    const err = new HttpError('validation_error', 'Request validation failed', {
      errors: [{ field: 'password', message: 'hunter2 is too short' }],
      log: { token: 'secret-token' },
      headers: { 'x-secret': 'secret-header' },
    });
    const serialised = JSON.stringify(httpFailure(err).details);
    expect(serialised).not.toMatch(/hunter2|secret/);
  });

  it('decodes an activity failure inside a failed workflow, after a round trip through the failure converter', () => {
    const failed = new WorkflowFailedError(
      'Workflow execution failed',
      throughTemporal(
        activityFailed(httpFailure({ code: 'validation_error', detail: 'imports[0]: unsupported role' })),
      ),
      RetryState.NON_RETRYABLE_FAILURE,
    );
    const decoded = httpErrorOf(failed);
    expect(decoded).toBeInstanceOf(HttpError);
    expect(decoded).toMatchObject({ status: 422, code: 'validation_error', detail: 'imports[0]: unsupported role' });
  });

  it('decodes a failed update, whether the workflow or its activity threw', () => {
    const own = new WorkflowUpdateFailedError(
      'failed',
      throughTemporal(httpFailure({ code: 'conflict', detail: 'used' })),
    );
    expect(httpErrorOf(own)).toMatchObject({ status: 409, code: 'conflict', detail: 'used' });
    const upstream = new WorkflowUpdateFailedError(
      'failed',
      throughTemporal(activityFailed(httpFailure({ code: 'forbidden', detail: 'Insufficient permissions' }))),
    );
    expect(httpErrorOf(upstream)).toMatchObject({ status: 403, code: 'forbidden' });
  });

  it('still decodes failures recorded by older code (histories outlive a deploy)', () => {
    const upstreamRejected = ApplicationFailure.create({
      type: 'UpstreamRejected',
      message: 'This e-mail address is already registered',
      nonRetryable: true,
      details: [{ code: 'conflict', status: 409 }],
    });
    expect(httpErrorOf(throughTemporal(upstreamRejected))).toMatchObject({
      code: 'conflict',
      detail: 'This e-mail address is already registered',
    });
    const chat = ApplicationFailure.create({ type: 'not_found', message: 'No such conversation', nonRetryable: true });
    expect(httpErrorOf(activityFailed(chat))).toMatchObject({ code: 'not_found', detail: 'No such conversation' });
  });

  it('leaves anything else to the caller’s generic answer', () => {
    expect(httpErrorOf(new Error('boom'))).toBeUndefined();
    expect(httpErrorOf(undefined)).toBeUndefined();
    expect(httpErrorOf(activityFailed(ApplicationFailure.create({ message: 'auth service answered 503' })))).toBe(
      undefined,
    );
    const unknownCode = ApplicationFailure.create({ type: HTTP_FAILURE, details: [{ code: 'teapot', detail: 'x' }] });
    expect(httpErrorOf(unknownCode)).toBeUndefined();
  });
});
