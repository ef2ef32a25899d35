import type { FastifyBaseLogger, FastifyInstance, FastifyReply } from 'fastify';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { HttpError } from '../../errors';
import { GatewayUserId } from '../../temporal/search-attributes';
import type { UpdateOutcome } from '../../temporal/update-with-start';
import type { UpstreamTokens } from '../../auth/sign-up-types';
import type { SignUpAnswer } from '../../workflows/sign-up/contract';
import type { MeResponse } from '../../auth/types';
import { userFromMe } from '../../auth/user';
import { reshapeAuthError } from '../../upstreams/auth-service';
import { sessionResponse } from '../token-response';

export const registered = () => new HttpError('conflict', 'This e-mail address is already registered');
export const unavailable = () =>
  new HttpError('upstream_unavailable', 'Sign-up is temporarily unavailable', { headers: { 'retry-after': '5' } });

/** How long the refused path may spend asking Temporal about the run. */
const RUN_CHECK_MS = 2_000;

export interface FailureContext {
  workflowId: string;
  proofs: string[];
  /** The digest of the request's Idempotency-Key scope (`idempotentRequestId`), if it has one. */
  retryKey: string | undefined;
  requestId: string;
  log: FastifyBaseLogger;
}

interface SignUpRun {
  status: string;
  /** The run created the account (it may still be finishing its other steps). */
  created: boolean;
  credential?: string;
  retryKey?: string;
  requestId?: string;
}

/**
 * What a failed Update-with-Start means for this caller (issue 18). "Registered" (a completed
 * run, or a run past its answer) is the account's answer only for a retry of the sign-up that
 * created it (same Idempotency-Key and password), else 409. Temporal not answering may still have
 * accepted the start: the run this request started then says how it went; else 503.
 */
export async function afterFailure(
  client: Client,
  err: unknown,
  ctx: FailureContext,
): Promise<UpdateOutcome<SignUpAnswer> | 'account'> {
  const registeredNow = (err instanceof HttpError && err.code === 'conflict') || completedRun(err);
  // updateWithStart's own 503 has asked Temporal already (no run); retried under its key, it joins one started later.
  if (!registeredNow && err instanceof HttpError) throw err;
  const run = await runOf(client, ctx.workflowId);
  const ours = run !== undefined && run.credential !== undefined && ctx.proofs.includes(run.credential);
  if (registeredNow) {
    const retried = ours && ctx.retryKey !== undefined && run.retryKey === ctx.retryKey;
    if (retried && run.created) return 'account';
    throw registered();
  }
  if (ours && run.requestId === ctx.requestId) {
    if (run.created) return 'account';
    if (run.status === 'RUNNING') return { status: 'running' };
  }
  ctx.log.warn({ error: err instanceof Error ? err.name : 'error' }, 'sign-up workflow unreachable');
  throw unavailable();
}

/** The latest run of a sign-up as its memo tells it; undefined when Temporal cannot say (bounded wait). */
async function runOf(client: Client, workflowId: string): Promise<SignUpRun | undefined> {
  try {
    const run = await client.withDeadline(Date.now() + RUN_CHECK_MS, () =>
      client.workflow.getHandle(workflowId).describe(),
    );
    const memo = run.memo ?? {};
    const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
    // The run sets GatewayUserId once it created the account (not for one that was already registered).
    const created = run.status.name === 'COMPLETED' || Boolean(run.typedSearchAttributes.get(GatewayUserId));
    return {
      status: run.status.name,
      created,
      credential: text(memo.credential),
      retryKey: text(memo.retry_key),
      requestId: text(memo.request_id),
    };
  } catch {
    return undefined;
  }
}

/**
 * The account's answer for a retry whose first try created it (its answer was lost: 503, no
 * answer): a session for the same e-mail and password, as a sign-in would open it.
 */
export async function accountAnswer(app: FastifyInstance, reply: FastifyReply, email: string, password: string) {
  const { authService } = app.deps;
  const res = await authService.call<UpstreamTokens>('POST', '/v1/client/sign-in/password', {
    body: { email, password },
  });
  if (res.status === 401 || res.status === 400) throw registered();
  if (res.status !== 200) throw reshapeAuthError(res.status, res.body);
  const me = await authService.expect<MeResponse>('GET', '/v1/client/me', [200], { token: res.body.access_token });
  return sessionResponse(reply, app.config, res.body, userFromMe(me.body));
}

/** Update-with-Start reached a completed sign-up, which its reuse policy does not start again. */
function completedRun(err: unknown): boolean {
  if (err instanceof WorkflowExecutionAlreadyStartedError) return true;
  return err instanceof Error && /already (started|completed)/i.test(err.message);
}
