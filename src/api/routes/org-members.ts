import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { HttpError } from '../../errors';
import { reshapeAuthError } from '../../upstreams/auth-service';
import { emitEvent } from '../events';
import { Uuid, withErrors } from '../schemas';
import { AssignableRole } from './orgs';

const MemberParams = Type.Object({ id: Uuid, user_id: Uuid });
const RoleBody = Type.Object({ role: AssignableRole });
const RoleAnswer = Type.Object({ user_id: Type.String(), role: Type.String() });

/** The owner's changes to an organisation's members (remove, change role), proxied to the auth service. */
const orgMemberRoutes: FastifyPluginAsync = async (app) => {
  const { authService } = app.deps;

  app.delete<{ Params: Static<typeof MemberParams> }>(
    '/v1/org/:id/member/:user_id',
    {
      config: { stateEvent: true },
      schema: {
        tags: ['organizations'],
        summary: 'Remove a member (owner only)',
        security: [{ bearer: [] }],
        params: MemberParams,
        response: withErrors({ 204: Type.Null() }, 400, 401, 403, 404, 422, 502, 503, 504),
      },
    },
    async (request, reply) => {
      const { id, user_id } = request.params;
      const res = await authService.call<{ detail?: string }>('DELETE', `/v1/org/${id}/member/${user_id}`, {
        token: request.user!.token,
      });
      if (res.status === 400 && /member not found/i.test(String(res.body?.detail)))
        throw new HttpError('not_found', 'Member not found');
      if (res.status !== 204 && res.status !== 200) throw reshapeAuthError(res.status, res.body);
      await emitEvent(app, request, 'member_removed', { org_id: id, user_id, removed_by: request.user!.sub });
      return reply.status(204).send();
    },
  );

  app.patch<{ Params: Static<typeof MemberParams>; Body: Static<typeof RoleBody> }>(
    '/v1/org/:id/member/:user_id/role',
    {
      config: { stateEvent: true },
      schema: {
        tags: ['organizations'],
        summary: "Change a member's role to admin or member (owner only)",
        security: [{ bearer: [] }],
        params: MemberParams,
        body: RoleBody,
        response: withErrors({ 200: RoleAnswer }, 400, 401, 403, 404, 422, 502, 503, 504),
      },
    },
    async (request) => {
      const { id, user_id } = request.params;
      const res = await authService.call<{ user_id: string; role: string; detail?: string }>(
        'PATCH',
        `/v1/org/${id}/member/${user_id}/role`,
        {
          token: request.user!.token,
          body: { role: request.body.role },
        },
      );
      if (res.status === 400 && /member not found/i.test(String(res.body?.detail)))
        throw new HttpError('not_found', 'Member not found');
      if (res.status !== 200) throw reshapeAuthError(res.status, res.body);
      await emitEvent(app, request, 'member_role_updated', {
        org_id: id,
        user_id,
        role: res.body.role,
        updated_by: request.user!.sub,
      });
      return { user_id: res.body.user_id, role: res.body.role };
    },
  );
};

export default orgMemberRoutes;
