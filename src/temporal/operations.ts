/**
 * Workflow-backed operations as the HTTP API shows them: start (or join) a workflow, answer with
 * its result when it ends within WORKFLOW_SYNC_TIMEOUT_MS, otherwise with an operation id; and
 * describe an operation for GET /v1/operations/{id}.
 */
import { randomUUID } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  type Client,
  type WorkflowHandle,
  type WorkflowStartOptions,
} from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import { HttpError, type ErrorCode } from '../errors';
import { progressQuery, type OperationProgress } from '../workflows/shared/progress';
import { httpErrorOf } from './http-failure';
import { GatewayOperation, GatewayOrgId, GatewayRequestId, GatewayUserId } from './search-attributes';
import { sha256Hex } from '../lib/hash';
import { SEALED_PREFIX, type SecretBox } from './secrets';

export interface OperationError {
  code: ErrorCode;
  detail: string;
}

export interface OperationView {
  id: string;
  kind: string;
  status: 'running' | 'completed' | 'failed';
  progress?: OperationProgress;
  result?: unknown;
  error?: OperationError;
  created_at: string;
  updated_at: string;
}

/** What a workflow keeps in its memo for describe(): the request id, and progress when countable. */
export interface OperationMemo {
  request_id?: string;
  progress?: OperationProgress;
  updated_at?: string;
}

const SAFE_ID_PART = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The last part of a workflow id: the Idempotency-Key (so a retry joins the same workflow), else
 * an id the gateway generates — never the request id, which a client may choose (X-Request-Id)
 * and so make its request join someone else's operation. A key that is not a plain token is
 * hashed, so ids stay readable and free of whatever a client put in its key. (The second
 * parameter is no longer read; it stays until the callers drop it.)
 */
export function operationKey(idempotencyKey: string | undefined, _requestId?: string): string {
  if (idempotencyKey === undefined) return randomUUID();
  return SAFE_ID_PART.test(idempotencyKey) ? idempotencyKey : sha256Hex(idempotencyKey).slice(0, 32);
}

/** The error a failed operation reports: the `httpFailure` its activity or workflow threw, else `internal`. */
export function operationError(err: unknown): OperationError {
  const failure = httpErrorOf(err);
  return failure
    ? { code: failure.code, detail: failure.detail }
    : { code: 'internal', detail: 'The operation failed' };
}

/** Ends of the result waits in progress in this process (shutdown cuts them short). */
const resultWaits = new Set<() => void>();

/** On shutdown: every result wait answers "running" (202) now; the workflow goes on. */
export function cutOperationWaitsShort(): void {
  for (const end of resultWaits) end();
}

export type OperationOutcome<R> =
  { status: 'completed'; result: R; workflowId: string } | { status: 'running'; workflowId: string };

export interface StartOperationOptions {
  /** GatewayOperation, e.g. `chat-upload-conversations`. */
  kind: string;
  workflowId: string;
  taskQueue: string;
  userId: string;
  orgId?: string | null;
  requestId: string;
  /** How long to wait for the result before answering "running". */
  syncTimeoutMs: number;
  /** Extra memo fields (never secrets: memos are encrypted by the codec but shown to operators). */
  memo?: Record<string, unknown>;
}

/** How long starting an operation's workflow may take before the caller gets 503 + Retry-After. */
const START_TIMEOUT_MS = 5_000;

/**
 * Starts the workflow, or joins it when the same id is running or has completed (a retry with
 * the same Idempotency-Key); a failed one may be started again. Waits up to `syncTimeoutMs`.
 * A failed workflow becomes the HttpError its failure names.
 */
export async function runOperation<W extends Workflow>(
  client: Client,
  workflow: W | string,
  args: Parameters<W>,
  options: StartOperationOptions,
): Promise<OperationOutcome<Awaited<ReturnType<W>>>> {
  const { workflowId } = options;
  let handle: WorkflowHandle<W>;
  try {
    // Bounded: while Temporal is away the SDK retries the start for about 20 s (issue 18).
    handle = await client.withDeadline(Date.now() + START_TIMEOUT_MS, () =>
      client.workflow.start<W>(workflow, {
        workflowId,
        taskQueue: options.taskQueue,
        args,
        workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
        workflowIdConflictPolicy: 'USE_EXISTING',
        typedSearchAttributes: [
          { key: GatewayOperation, value: options.kind },
          { key: GatewayUserId, value: options.userId },
          { key: GatewayRequestId, value: options.requestId },
          ...(options.orgId ? [{ key: GatewayOrgId, value: options.orgId }] : []),
        ],
        memo: { request_id: options.requestId, ...options.memo },
      } as unknown as WorkflowStartOptions<W>),
    );
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      handle = client.workflow.getHandle<W>(workflowId);
    } else {
      throw new HttpError('upstream_unavailable', 'The workflow service is unavailable', { transient: true });
    }
  }

  // The long poll is aborted when the answer turns into "running": nothing lingers per request.
  const abort = new AbortController();
  const end = () => abort.abort();
  const timer = setTimeout(end, options.syncTimeoutMs);
  resultWaits.add(end);
  try {
    const result = (await client.withAbortSignal(abort.signal, () => handle.result())) as Awaited<ReturnType<W>>;
    return { status: 'completed', result, workflowId };
  } catch (err) {
    if (err instanceof WorkflowFailedError) {
      const { code, detail } = operationError(err);
      throw new HttpError(code, detail);
    }
    // Timed out, or lost the connection while waiting: the workflow keeps running either way.
    return { status: 'running', workflowId };
  } finally {
    clearTimeout(timer);
    resultWaits.delete(end);
  }
}

const SEALED_OPERATION = 'sign-up:';
const OPERATION_PURPOSE = 'operation-id';

/**
 * The operation id a sign-up's 202 hands out: the run, sealed with the secrets key. It names
 * neither the e-mail nor anything guessable, and only its holder (the caller who started or
 * proved the same credentials) can follow the run; no token exists yet to check an owner by.
 */
export function sealedOperationId(secrets: SecretBox, workflowId: string, runId: string): string {
  const sealed = secrets.sealJson({ w: workflowId, r: runId }, OPERATION_PURPOSE);
  return SEALED_OPERATION + sealed.slice(SEALED_PREFIX.length);
}

/** The run a sealed operation id names, or undefined for anything else (forged, other key, other id). */
export function openOperationId(secrets: SecretBox, id: string): { workflowId: string; runId: string } | undefined {
  if (!id.startsWith(SEALED_OPERATION)) return undefined;
  try {
    const run = secrets.openJson<{ w?: unknown; r?: unknown }>(
      SEALED_PREFIX + id.slice(SEALED_OPERATION.length),
      OPERATION_PURPOSE,
    );
    return typeof run.w === 'string' && typeof run.r === 'string' ? { workflowId: run.w, runId: run.r } : undefined;
  } catch {
    return undefined;
  }
}

/** Where a running operation can be followed. */
export const operationLocation = (workflowId: string) => `/v1/operations/${encodeURIComponent(workflowId)}`;

/**
 * An operation as GET /v1/operations/{id} shows it, plus its owner (GatewayUserId) so the route
 * can refuse other users. Progress comes from the `progress` query while it runs (falling back
 * to the memo when no worker answers in time) and from the memo once it has ended.
 */
export async function describeOperation(
  handle: WorkflowHandle,
  options: { queryTimeoutMs?: number } = {},
): Promise<{ operation: OperationView; ownerUserId: string | null }> {
  const desc = await handle.describe();
  const memo = (desc.memo ?? {}) as OperationMemo;
  const kind = desc.typedSearchAttributes.get(GatewayOperation) ?? desc.type;
  const ownerUserId = desc.typedSearchAttributes.get(GatewayUserId) ?? null;
  const name = desc.status.name;
  const status: OperationView['status'] =
    name === 'RUNNING' || name === 'CONTINUED_AS_NEW' ? 'running' : name === 'COMPLETED' ? 'completed' : 'failed';

  const view: OperationView = {
    id: desc.workflowId,
    kind,
    status,
    created_at: desc.startTime.toISOString(),
    updated_at: (desc.closeTime ?? (memo.updated_at ? new Date(memo.updated_at) : desc.startTime)).toISOString(),
  };

  let progress = memo.progress;
  if (status === 'running') {
    // No worker may be polling right now: then the memo's last progress has to do.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), options.queryTimeoutMs ?? 2_000);
    try {
      progress = await handle.client.withAbortSignal(abort.signal, () => handle.query(progressQuery));
    } catch {
      // not answered in time, or an operation without progress
    } finally {
      clearTimeout(timer);
    }
  }
  if (progress) view.progress = { done: progress.done, total: progress.total };

  if (status === 'completed') {
    view.result = await handle.result();
  } else if (status === 'failed') {
    view.error =
      name === 'FAILED'
        ? await handle.result().then(
            () => operationError(undefined),
            (err: unknown) => operationError(err),
          )
        : { code: 'internal', detail: `The operation was ${name.toLowerCase().replace(/_/g, ' ')}` };
  }
  return { operation: view, ownerUserId };
}
