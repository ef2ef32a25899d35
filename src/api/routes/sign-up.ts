import type { FastifyBaseLogger, FastifyPluginAsync, FastifyReply } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { emailHashOf } from '../../auth/hashing';
import { HttpError } from '../../errors';
import { GatewayUserId, operationLocation, sealedOperationId } from '../../temporal/operations';
import { SecretBox } from '../../temporal/secrets';
import { updateWithStart, type UpdateOutcome } from '../../temporal/update-with-start';
import { SIGN_UP_CONFLICT, type SignUpAnswer, type SignUpInput, type UpstreamTokens } from '../../auth/sign-up-types';
import { signUpAnswer, signUpWorkflow } from '../../workflows/sign-up';
import { sessionResponse } from '../token-response';
import { idempotentRequestId } from '../plugins/idempotency';
import { reshapeAuthError } from '../../upstreams/auth-service';
import type { MeResponse } from '../../auth/types';
import { userFromMe } from '../../auth/user';
import { Email, Operation, Password, TokenResponse, withErrors } from '../schemas';

const SignUpBody = Type.Object({
  email: Email,
  password: Password,
  full_name: Type.Optional(Type.String({ maxLength: 200 })),
});

export const signUpWorkflowId = (email: string) => `sign-up/${emailHashOf(email)}`;

const registered = () => new HttpError('conflict', 'This e-mail address is already registered');
const unavailable = () =>
  new HttpError('upstream_unavailable', 'Sign-up is temporarily unavailable', { headers: { 'retry-after': '5' } });

/** How long the refused path may spend asking Temporal about the run. */
const RUN_CHECK_MS = 2_000;

interface FailureContext {
  workflowId: string;
  proofs: string[];
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
 * POST /v1/client/sign-up as the `sign-up` workflow with Update-with-Start: the answer comes as
 * soon as the account exists; if that takes longer than WORKFLOW_SYNC_TIMEOUT_MS (auth service
 * down), 202 + Location and the workflow keeps retrying. The workflow id derives from the e-mail,
 * so a retry joins the running workflow instead of creating a second account — but only with the
 * same password: the update carries a keyed HMAC of e-mail + password that the run's validator
 * compares with its own (another password → 409, never the run's session). A completed sign-up
 * is not started again (the e-mail is registered → 409), except for a retry under the same
 * Idempotency-Key whose first try created the account but lost its answer (503, no answer): it
 * gets the account's session (issue 18).
 */
const signUpRoutes: FastifyPluginAsync = async (app) => {
  const { config } = app;
  const secrets = SecretBox.fromConfig(config.TEMPORAL_SECRETS_KEYS);

  app.post<{ Body: Static<typeof SignUpBody> }>(
    '/v1/client/sign-up',
    {
      config: { authRateLimit: true, idempotent: true },
      schema: {
        tags: ['auth'],
        summary:
          'Register (workflow sign-up): 201 token response, or 202 + Location while the auth service cannot answer',
        body: SignUpBody,
        response: withErrors({ 201: TokenResponse, 202: Operation }, 409, 422, 429, 502, 503),
      },
    },
    async (request, reply) => {
      const email = request.body.email.trim().toLowerCase();
      const workflowId = signUpWorkflowId(email);
      const proofs = secrets.credentialProofs(email, request.body.password);
      const input: SignUpInput = {
        email,
        password: secrets.seal(request.body.password),
        full_name: request.body.full_name ?? '',
        requestId: request.id,
        ip: request.ip ?? null,
        credential: proofs[0]!,
      };
      const { client } = app.deps.temporal;
      // A retry under the same Idempotency-Key is recognised by the run it started (memo).
      const retryKey = idempotentRequestId(request);
      let outcome: UpdateOutcome<SignUpAnswer> | 'account';
      try {
        outcome = await updateWithStart(
          client,
          signUpWorkflow,
          signUpAnswer,
          {
            workflowId,
            taskQueue: config.TEMPORAL_TASK_QUEUE,
            args: [input],
            updateArgs: [proofs],
            kind: 'sign-up',
            requestId: request.id,
            timeoutMs: config.WORKFLOW_SYNC_TIMEOUT_MS,
            workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
            // The 202 path compares it without waiting for the run (a keyed HMAC: no secret).
            memo: { credential: proofs[0], ...(retryKey ? { retry_key: retryKey } : {}) },
          },
          { [SIGN_UP_CONFLICT]: 'conflict' },
        );
      } catch (err) {
        outcome = await afterFailure(err, { workflowId, proofs, retryKey, requestId: request.id, log: request.log });
      }
      if (outcome === 'account')
        return reply.status(201).send(await accountAnswer(reply, email, request.body.password));
      if (outcome.status === 'running') {
        const operationId = await runningOperationId(workflowId, proofs);
        void reply.header('location', operationLocation(operationId));
        return reply.status(202).send({ operation_id: operationId, status: 'running' as const });
      }
      const { tokens, user } = outcome.result;
      return reply.status(201).send(sessionResponse(reply, config, secrets.openJson<UpstreamTokens>(tokens), user));
    },
  );

  /**
   * What a failed Update-with-Start means for this caller. "Registered" (a completed run, or a
   * run past its answer) is the account's answer only for a retry of the sign-up that started it
   * (same Idempotency-Key and password), else 409. Temporal not answering may still have
   * accepted the start: the run this request started then says how it went; else 503.
   */
  async function afterFailure(err: unknown, ctx: FailureContext): Promise<UpdateOutcome<SignUpAnswer> | 'account'> {
    const registeredNow = (err instanceof HttpError && err.code === 'conflict') || completedRun(err);
    // updateWithStart's own 503 has asked Temporal already (no run): retried under its key, it joins one started later.
    if (!registeredNow && err instanceof HttpError) throw err;
    const run = await runOf(ctx.workflowId);
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

  /** The latest run of a sign-up as the memo tells it; undefined when Temporal cannot say (bounded wait). */
  async function runOf(workflowId: string): Promise<SignUpRun | undefined> {
    const { client } = app.deps.temporal;
    try {
      const run = await client.withDeadline(Date.now() + RUN_CHECK_MS, () =>
        client.workflow.getHandle(workflowId).describe(),
      );
      const memo = run.memo ?? {};
      const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
      // The run set GatewayUserId once it created the account (not for one that was already registered).
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
  async function accountAnswer(reply: FastifyReply, email: string, password: string) {
    const { authService } = app.deps;
    const res = await authService.call<UpstreamTokens>('POST', '/v1/client/sign-in/password', {
      body: { email, password },
    });
    if (res.status === 401 || res.status === 400) throw registered();
    if (res.status !== 200) throw reshapeAuthError(res.status, res.body);
    const me = await authService.expect<MeResponse>('GET', '/v1/client/me', [200], { token: res.body.access_token });
    return sessionResponse(reply, config, res.body, userFromMe(me.body));
  }

  /**
   * The run did not answer in time (its worker may be busy retrying the auth service, so the
   * update's validator has not run yet): the memo tells whether this caller may follow it.
   */
  async function runningOperationId(workflowId: string, proofs: string[]): Promise<string> {
    let description;
    try {
      description = await app.deps.temporal.client.workflow.getHandle(workflowId).describe();
    } catch {
      throw unavailable();
    }
    const credential = (description.memo as { credential?: unknown } | undefined)?.credential;
    if (typeof credential !== 'string' || !proofs.includes(credential)) throw registered();
    return sealedOperationId(secrets, workflowId, description.runId);
  }
};

/** Update-with-Start reached a completed sign-up, which its reuse policy does not start again. */
function completedRun(err: unknown): boolean {
  if (err instanceof WorkflowExecutionAlreadyStartedError) return true;
  return err instanceof Error && /already (started|completed)/i.test(err.message);
}

export default signUpRoutes;
