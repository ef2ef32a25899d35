import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import { WorkflowNotFoundError } from '@temporalio/client';
import { HttpError } from '../../errors';
import { describeOperation } from '../../temporal/operations';
import { bearerToken } from '../plugins/auth';
import { withErrors } from '../schemas';

/** Workflow ids are readable paths (`sign-up/<hash>`, `chat-delete-all/prompts/<user>/<key>`). */
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
 * GatewayUserId search attribute) may read it; anyone else gets 404, so ids cannot be probed.
 * Sign-up operations have no owner yet (the caller has no account while it runs): they answer
 * without a token but show only id, kind, status and times — never the result.
 */
const operationRoutes: FastifyPluginAsync = async (app) => {
  // A wildcard, so the id may come with its slashes raw or percent-encoded (as in Location).
  app.get<{ Params: { '*': string } }>(
    '/v1/operations/*',
    {
      schema: {
        tags: ['operations'],
        summary: 'State of a workflow-backed operation (status, progress, result or error)',
        security: [{ bearer: [] }],
        response: withErrors({ 200: OperationView }, 401, 404, 503),
      },
    },
    async (request, reply) => {
      let id: string;
      try {
        id = decodeURIComponent(request.params['*']);
      } catch {
        throw new HttpError('not_found', 'Operation not found');
      }
      if (!OPERATION_ID.test(id)) throw new HttpError('not_found', 'Operation not found');
      const signUp = id.startsWith('sign-up/');
      if (!signUp) {
        if (!bearerToken(request))
          throw new HttpError('unauthorized', 'Not authenticated', { headers: { 'www-authenticate': 'Bearer' } });
        await app.authenticate(request, reply);
      }
      let described;
      try {
        described = await describeOperation(app.deps.temporal.client.workflow.getHandle(id));
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw new HttpError('not_found', 'Operation not found');
        throw new HttpError('upstream_unavailable', 'The workflow service is unavailable');
      }
      const { operation, ownerUserId } = described;
      if (signUp) {
        const { id: opId, kind, status, created_at, updated_at } = operation;
        return { id: opId, kind, status, created_at, updated_at };
      }
      if (!ownerUserId || ownerUserId !== request.user!.sub) throw new HttpError('not_found', 'Operation not found');
      return operation;
    },
  );
};

export default operationRoutes;
