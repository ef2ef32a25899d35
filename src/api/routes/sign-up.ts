import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { emailHashOf } from '../../auth/hashing';
import { HttpError } from '../../errors';
import { operationLocation } from '../../temporal/operations';
import { updateWithStart, type UpdateOutcome } from '../../temporal/update-with-start';
import type { SignUpAnswer, SignUpInput } from '../../auth/sign-up-types';
import { signUpAnswer, signUpWorkflow } from '../../workflows/sign-up';
import { sessionResponse } from '../token-response';
import { Email, Operation, Password, TokenResponse, withErrors } from '../schemas';

const SignUpBody = Type.Object({
  email: Email,
  password: Password,
  full_name: Type.Optional(Type.String({ maxLength: 200 })),
});

export const signUpWorkflowId = (email: string) => `sign-up/${emailHashOf(email)}`;

/**
 * POST /v1/client/sign-up as the `sign-up` workflow with Update-with-Start: the answer comes as
 * soon as the account exists; if that takes longer than WORKFLOW_SYNC_TIMEOUT_MS (auth service
 * down), 202 + Location and the workflow keeps retrying. The workflow id derives from the e-mail,
 * so a client retry joins the running workflow instead of creating a second account.
 */
const signUpRoutes: FastifyPluginAsync = async (app) => {
  const { config } = app;

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
      const input: SignUpInput = {
        email,
        password: request.body.password,
        full_name: request.body.full_name ?? '',
        requestId: request.id,
        ip: request.ip ?? null,
      };
      let outcome: UpdateOutcome<SignUpAnswer>;
      try {
        outcome = await updateWithStart(app.deps.temporal.client, signUpWorkflow, signUpAnswer, {
          workflowId,
          taskQueue: config.TEMPORAL_TASK_QUEUE,
          args: [input],
          kind: 'sign-up',
          requestId: request.id,
          timeoutMs: config.WORKFLOW_SYNC_TIMEOUT_MS,
        });
      } catch (err) {
        if (err instanceof HttpError) throw err;
        request.log.warn({ error: err instanceof Error ? err.name : 'error' }, 'sign-up workflow unreachable');
        throw new HttpError('upstream_unavailable', 'Sign-up is temporarily unavailable');
      }
      if (outcome.status === 'running') {
        void reply.header('location', operationLocation(workflowId));
        return reply.status(202).send({ operation_id: workflowId, status: 'running' as const });
      }
      const { tokens, user } = outcome.result;
      return reply.status(201).send(sessionResponse(reply, config, tokens, user));
    },
  );
};

export default signUpRoutes;
