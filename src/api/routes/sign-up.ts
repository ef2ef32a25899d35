import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { emailHashOf } from '../../auth/hashing';
import { operationLocation, sealedOperationId } from '../../temporal/operations';
import { SecretBox } from '../../temporal/secrets';
import { updateWithStart, type UpdateOutcome } from '../../temporal/update-with-start';
import type { UpstreamTokens } from '../../auth/sign-up-types';
import { signUpAnswer, signUpWorkflowId, type SignUpAnswer, type SignUpInput } from '../../workflows/sign-up/contract';
import { signUpWorkflow } from '../../workflows/sign-up/workflow';
import { sessionResponse } from '../token-response';
import { idempotentRequestId } from '../plugins/idempotency';
import { accountAnswer, afterFailure, registered, unavailable } from './sign-up-failure';
import { Email, Operation, Password, TokenResponse, withErrors } from '../schemas';

const SignUpBody = Type.Object({
  email: Email,
  password: Password,
  full_name: Type.Optional(Type.String({ maxLength: 200 })),
});

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
      const workflowId = signUpWorkflowId(emailHashOf(email));
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
        outcome = await updateWithStart(client, signUpWorkflow, signUpAnswer, {
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
        });
      } catch (err) {
        const ctx = { workflowId, proofs, retryKey, requestId: request.id, log: request.log };
        outcome = await afterFailure(client, err, ctx);
      }
      if (outcome === 'account')
        return reply.status(201).send(await accountAnswer(app, reply, email, request.body.password));
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

export default signUpRoutes;
