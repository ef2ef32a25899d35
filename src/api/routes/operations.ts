import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import { WorkflowNotFoundError } from '@temporalio/client';
import { HttpError } from '../../errors';
import { describeOperation, openOperationId } from '../../temporal/operations';
import { SecretBox } from '../../temporal/secrets';
import { bearerToken } from '../plugins/auth';
import { withErrors } from '../schemas';

/** Workflow ids (`chat-delete-all/prompts/<user>/<key>`) or sealed sign-up ids (`sign-up:<key id>:<base64url>`). */
const OPERATION_ID = /^[A-Za-z0-9._:/-]{1,400}$/;

const OperationView = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  status: Type.Union([Type.Literal('running'), Type.Literal('completed'), Type.Literal('failed')]),
  progress: Type.Optional(Type.Object({ done: Type.Integer(), total: Type.Integer() })),
  result: Type.Optional(Type.Unknown()),
  error: Type.Optional(Type.Object({ code: Type.String(), detail: Type.String() })),
  created_at: Type.String(),
  updated_at: Type.String(),
});

/**
 * GET /v1/operations/{id}: the state of a workflow-backed request. Only its owner (the
 * GatewayUserId search attribute) may read it; anyone else gets the same 404 as for an id that
 * never existed. A sign-up's caller has no account while it runs, so its 202 hands out a sealed
 * id (see sealedOperationId) that is read without a token and shows no result. Rate-limited
 * like the credential routes, so ids cannot be probed at speed.
 */
const operationRoutes: FastifyPluginAsync = async (app) => {
  const secrets = SecretBox.fromConfig(app.config.TEMPORAL_SECRETS_KEYS);
  const notFound = () => new HttpError('not_found', 'Operation not found');

  // A wildcard, so the id may come with its slashes raw or percent-encoded (as in Location).
  app.get<{ Params: { '*': string } }>(
    '/v1/operations/*',
    {
      config: { authRateLimit: true },
      schema: {
        tags: ['operations'],
        summary: 'State of a workflow-backed operation (status, progress, result or error)',
        security: [{ bearer: [] }],
        response: withErrors({ 200: OperationView }, 401, 404, 429, 503),
      },
    },
    async (request, reply) => {
      let id: string;
      try {
        id = decodeURIComponent(request.params['*']);
      } catch {
        throw notFound();
      }
      if (!OPERATION_ID.test(id)) throw notFound();
      const signUp = openOperationId(secrets, id);
      if (!signUp) {
        if (!bearerToken(request))
          throw new HttpError('unauthorized', 'Not authenticated', { headers: { 'www-authenticate': 'Bearer' } });
        await app.authenticate(request, reply);
      }
      const handle = signUp
        ? app.deps.temporal.client.workflow.getHandle(signUp.workflowId, signUp.runId)
        : app.deps.temporal.client.workflow.getHandle(id);
      let described;
      try {
        described = await describeOperation(handle);
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw notFound();
        throw new HttpError('upstream_unavailable', 'The workflow service is unavailable');
      }
      const { operation, ownerUserId } = described;
      if (signUp) {
        const { kind, status, error, created_at, updated_at } = operation;
        return { id, kind, status, ...(error ? { error } : {}), created_at, updated_at };
      }
      if (!ownerUserId || ownerUserId !== request.user!.sub) throw notFound();
      return operation;
    },
  );
};

export default operationRoutes;
