import { createHash } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { WithStartWorkflowOperation, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { SignUpAnswer, SignUpInput } from '../../auth/sign-up-types';
import { ERROR_STATUS, HttpError, type ErrorCode } from '../../errors';
import { GatewayOperation, GatewayRequestId, operationLocation } from '../../temporal/operations';
import { signUpAnswer, signUpWorkflow } from '../../workflows/sign-up';
import { Email, Operation, Password, TokenResponse, withErrors } from '../schemas';

const SignUpBody = Type.Object({
  email: Email,
  password: Password,
  full_name: Type.Optional(Type.String({ maxLength: 200 })),
});

export const signUpWorkflowId = (email: string) => `sign-up/${createHash('sha256').update(email).digest('hex')}`;

/** The gateway error a failed sign-up update carries (set by the activities as failure details). */
function errorOf(err: WorkflowUpdateFailedError): HttpError {
  let cause: unknown = err.cause;
  while (cause && !(cause instanceof ApplicationFailure && cause.type === 'UpstreamRejected'))
    cause = (cause as { cause?: unknown }).cause;
  const details =
    cause instanceof ApplicationFailure ? (cause.details?.[0] as { code?: string } | undefined) : undefined;
  const code = details?.code && details.code in ERROR_STATUS ? (details.code as ErrorCode) : 'upstream_error';
  return new HttpError(code, cause instanceof ApplicationFailure ? cause.message : 'Sign-up failed');
}

/**
 * POST /v1/client/sign-up as the `sign-up` workflow with Update-with-Start: the answer comes as
 * soon as the account exists; if that takes longer than WORKFLOW_SYNC_TIMEOUT_MS (auth service
 * down), 202 + Location and the workflow keeps retrying. The workflow id derives from the e-mail,
 * so a client retry joins the running workflow instead of creating a second account.
 */
const signUpRoutes: FastifyPluginAsync = async (app) => {
  const { config } = app;
  const cookieBase = { httpOnly: true, sameSite: 'lax' as const, secure: config.COOKIE_SECURE };

  app.post<{ Body: Static<typeof SignUpBody> }>(
    '/v1/client/sign-up',
    {
      config: { rateLimit: 'auth', idempotent: true },
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
      const input: SignUpInput = {
        email,
        password: request.body.password,
        full_name: request.body.full_name ?? '',
        requestId: request.id,
        ip: request.ip ?? null,
      };
      const startWorkflowOperation = new WithStartWorkflowOperation(signUpWorkflow, {
        workflowId,
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        typedSearchAttributes: [
          { key: GatewayOperation, value: 'sign-up' },
          { key: GatewayRequestId, value: request.id },
        ],
        memo: { request_id: request.id },
      });
      const update = app.deps.temporal.client.workflow.executeUpdateWithStart(signUpAnswer, { startWorkflowOperation });
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'running'>((resolve) => {
        timer = setTimeout(() => resolve('running'), config.WORKFLOW_SYNC_TIMEOUT_MS);
      });
      let outcome: SignUpAnswer | 'running';
      try {
        outcome = await Promise.race([update, timeout]);
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError) throw errorOf(err);
        request.log.warn({ error: err instanceof Error ? err.name : 'error' }, 'sign-up workflow unreachable');
        throw new HttpError('upstream_unavailable', 'Sign-up is temporarily unavailable');
      } finally {
        clearTimeout(timer);
      }
      if (outcome === 'running') {
        update.catch(() => undefined);
        void reply.header('location', operationLocation(workflowId));
        return reply.status(202).send({ operation_id: workflowId, status: 'running' as const });
      }
      const { tokens, user } = outcome;
      void reply.setCookie('access_token', tokens.access_token, {
        ...cookieBase,
        path: '/',
        maxAge: tokens.expires_in,
      });
      void reply.setCookie('refresh_token', tokens.refresh_token, { ...cookieBase, path: '/v1/client' });
      return reply.status(201).send({
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        token_type: tokens.token_type ?? 'Bearer',
        expires_in: tokens.expires_in,
        jwt: tokens.access_token,
        user: { ...user, sub: user.user_id },
      });
    },
  );
};

export default signUpRoutes;
