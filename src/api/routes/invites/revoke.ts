import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { HttpError } from '../../../errors';
import { revokeInvite } from '../../../workflows/org-invite/contract';
import { Uuid, withErrors } from '../../schemas';
import { findPendingInvite } from '../../../db/invite-store';
import { assertOwner } from './shared';

const RevokeParams = Type.Object({ id: Uuid, invite_id: Uuid });

/** The owner revokes a pending invite: a signal to its workflow, which marks it revoked. */
const revokeInviteRoutes: FastifyPluginAsync = async (app) => {
  const { db, temporal } = app.deps;

  app.delete<{ Params: Static<typeof RevokeParams> }>(
    '/v1/org/:id/invite/:invite_id',
    {
      schema: {
        tags: ['organizations'],
        summary: 'Revoke a pending invite (owner only)',
        security: [{ bearer: [] }],
        params: RevokeParams,
        response: withErrors({ 204: Type.Null() }, 401, 403, 404, 422, 503),
      },
    },
    async (request, reply) => {
      await assertOwner(app, request, request.params.id);
      const row = await findPendingInvite(db, request.params.invite_id, request.params.id);
      if (!row) throw new HttpError('not_found', 'No pending invite with this id');
      await temporal.client.workflow.getHandle(row.workflow_id).signal(revokeInvite);
      return reply.status(204).send();
    },
  );
};

export default revokeInviteRoutes;
