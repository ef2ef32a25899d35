import { WithStartWorkflowOperation, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { UpdateDefinition, Workflow } from '@temporalio/common';
import { HttpError } from '../errors';
import { httpErrorOf } from './http-failure';
import { GatewayOperation, GatewayOrgId, GatewayRequestId, GatewayUserId } from './search-attributes';

export interface UpdateWithStartOptions<W extends Workflow> {
  workflowId: string;
  taskQueue: string;
  args: Parameters<W>;
  /** GatewayOperation search attribute, e.g. `sign-up`. */
  kind: string;
  requestId: string;
  userId?: string;
  orgId?: string;
  /** How long to wait for the update's answer before reporting "running". */
  timeoutMs: number;
  /** Default ALLOW_DUPLICATE: a closed run with this id may be followed by a new one. */
  workflowIdReusePolicy?: 'ALLOW_DUPLICATE' | 'ALLOW_DUPLICATE_FAILED_ONLY';
  /** Extra memo fields (encrypted by the codec, but shown to operators: never a secret). */
  memo?: Record<string, unknown>;
}

export type UpdateOutcome<R> = { status: 'completed'; result: R } | { status: 'running' };

/**
 * Starts the workflow (or joins the running one with the same id) and waits for `update`'s answer
 * (Update-with-Start, the early-return pattern). Search attributes and memo follow the Temporal
 * conventions of gateway-http.md. A failed update becomes the HttpError its failure names; no
 * answer in time is "running" only once the start was accepted, else 503 `upstream_unavailable`.
 */
export async function updateWithStart<W extends Workflow, R, A extends unknown[] = []>(
  client: Client,
  workflow: W,
  update: UpdateDefinition<R, A>,
  options: UpdateWithStartOptions<W> & { updateArgs?: A },
): Promise<UpdateOutcome<R>> {
  const startWorkflowOperation = new WithStartWorkflowOperation(workflow, {
    workflowId: options.workflowId,
    taskQueue: options.taskQueue,
    args: options.args,
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: options.workflowIdReusePolicy ?? 'ALLOW_DUPLICATE',
    typedSearchAttributes: [
      { key: GatewayOperation, value: options.kind },
      { key: GatewayRequestId, value: options.requestId },
      ...(options.userId ? [{ key: GatewayUserId, value: options.userId }] : []),
      ...(options.orgId ? [{ key: GatewayOrgId, value: options.orgId }] : []),
    ],
    memo: { request_id: options.requestId, ...options.memo },
    // The SDK's conditional args type cannot be satisfied by a generic W; the shape is checked by callers' W.
  } as unknown as ConstructorParameters<typeof WithStartWorkflowOperation<W>>[1]);
  // The SDK retries an unreachable server for ~20 s: past the wait and the start check, stop it
  // (a start accepted by then goes on without this call).
  const answer = inFlight(
    client.withDeadline(Date.now() + options.timeoutMs + START_CHECK_MS, () =>
      client.workflow.executeUpdateWithStart(update, {
        startWorkflowOperation,
        ...(options.updateArgs ? { args: options.updateArgs } : {}),
      }),
    ),
  );
  const started = startWorkflowOperation.workflowHandle().then(
    () => true,
    () => false,
  );
  const outcome = await waitForUpdate(answer, options.timeoutMs);
  // "Running" promises a run: the SDK keeps retrying an unreachable server longer than the wait.
  if (outcome.status === 'running' && !(await startAccepted(client, options.workflowId, started))) {
    throw new HttpError('upstream_unavailable', 'The workflow service did not accept the operation; retry later', {
      headers: { 'retry-after': '5' },
    });
  }
  return outcome;
}

/** How long the "running" path may spend asking Temporal whether the run exists. */
const START_CHECK_MS = 2_000;

/**
 * Whether the server accepted the start (or the run to join exists). The start's answer comes
 * with the update's acceptance, which waits for a worker: without one, ask for the run instead.
 */
async function startAccepted(client: Client, workflowId: string, started: Promise<boolean>): Promise<boolean> {
  const known = await Promise.race([started, Promise.resolve(undefined)]);
  if (known !== undefined) return known;
  try {
    const run = await inFlight(
      client.withDeadline(Date.now() + START_CHECK_MS, () => client.workflow.getHandle(workflowId).describe()),
    );
    return run.status.name === 'RUNNING';
  } catch {
    return false;
  }
}

/** Ends of the update waits in progress in this process (shutdown cuts them short). */
const waitsInProgress = new Set<() => void>();

/**
 * On shutdown: every update wait answers "running" now instead of at its deadline (the run goes
 * on; callers answer 202, or 503 if the start was never accepted), so requests end within the grace.
 */
export function cutUpdateWaitsShort(): void {
  for (const end of waitsInProgress) end();
}

/**
 * Waits up to `timeoutMs` for an update's answer. A failed update becomes the HttpError its
 * `httpFailure` names (else 502 `upstream_error`).
 */
export async function waitForUpdate<R>(answer: Promise<R>, timeoutMs: number): Promise<UpdateOutcome<R>> {
  let timer: NodeJS.Timeout | undefined;
  let end!: () => void;
  const timeout = new Promise<'running'>((resolve) => {
    end = () => resolve('running');
    timer = setTimeout(end, timeoutMs);
  });
  waitsInProgress.add(end);
  try {
    const outcome = await Promise.race([answer.then((result) => ({ result })), timeout]);
    if (outcome === 'running') {
      answer.catch(() => undefined);
      return { status: 'running' };
    }
    return { status: 'completed', result: outcome.result };
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError)
      throw httpErrorOf(err) ?? new HttpError('upstream_error', 'The operation failed');
    throw err;
  } finally {
    clearTimeout(timer);
    waitsInProgress.delete(end);
  }
}

/** Temporal calls of this module that may still be in the SDK's retries (each under a deadline). */
const callsInFlight = new Set<Promise<unknown>>();

function inFlight<T>(call: Promise<T>): Promise<T> {
  callsInFlight.add(call);
  const forget = () => callsInFlight.delete(call);
  void call.then(forget, forget);
  return call;
}

/**
 * Resolves once those calls have ended. The SDK retries on a timer that throws "Channel has been
 * shut down" if it fires after the connection closed: close the connection after this.
 */
export async function temporalCallsSettled(): Promise<void> {
  await Promise.allSettled([...callsInFlight]);
}
