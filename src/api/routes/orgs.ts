import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { HttpError } from '../../errors';
import { reshapeAuthError } from '../../upstreams/auth-service';
import { emitEvent } from '../events';
import { orgMembership } from '../membership';
import { Member, Uuid, withErrors } from '../schemas';

const OrgParams = Type.Object({ id: Uuid });
const MemberParams = Type.Object({ id: Uuid, user_id: Uuid });
const CreateOrgBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) });
/** Roles a client may set (gateway-http.md): owner is never assignable through the API. */
export const AssignableRole = Type.Union([Type.Literal('admin'), Type.Literal('member')]);
const RoleBody = Type.Object({ role: AssignableRole });

/** Organisation routes proxied directly to the auth service; the invite routes are workflow-backed (invites.ts). */
const orgRoutes: FastifyPluginAsync = async (app) => {
  const { authService } = app.deps;

  app.post<{ Body: Static<typeof CreateOrgBody> }>(
    '/v1/org',
    {
      config: { stateEvent: true },
      schema: {
        tags: ['organizations'],
        summary: 'Create an organisation (the caller becomes its owner)',
        security: [{ bearer: [] }],
        body: CreateOrgBody,
        response: withErrors(
          { 201: Type.Object({ org_id: Type.String(), name: Type.String() }) },
          401,
          409,
          422,
          502,
          503,
          504,
        ),
      },
    },
    async (request, reply) => {
      const user = request.user!;
      const name = request.body.name.trim();
      const res = await authService.call<{ org_id: string }>('POST', '/v1/org', { token: user.token, body: { name } });
      // The upstream answers 200 on create and a bare 500 on a duplicate name (auth-service.md).
      if (res.status >= 500 && res.status !== 503 && res.status !== 504)
        throw new HttpError('conflict', 'An organization with this name already exists');
      if (res.status !== 200 && res.status !== 201) throw reshapeAuthError(res.status, res.body);
      app.forgetUserContext(user.token);
      await emitEvent(app, request, 'organization_created', { org_id: res.body.org_id, name, owner_id: user.sub });
      return reply.status(201).send({ org_id: res.body.org_id, name });
    },
  );

  app.get<{ Params: Static<typeof OrgParams> }>(
    '/v1/org/:id/members',
    {
      schema: {
        tags: ['organizations'],
        summary: 'Members of an organisation (caller must be a member)',
        security: [{ bearer: [] }],
        params: OrgParams,
        response: withErrors({ 200: Type.Array(Member) }, 401, 403, 404, 422, 502, 503, 504),
      },
    },
    async (request) => {
      // The upstream does not check membership before listing members: the gateway does.
      await orgMembership(app, request, request.params.id);
      const res = await authService.expect<Static<typeof Member>[]>(
        'GET',
        `/v1/org/${request.params.id}/members`,
        [200],
        { token: request.user!.token },
      );
      await emitEvent(app, request, 'members_listed', { org_id: request.params.id });
      return res.body;
    },
  );

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
        response: withErrors(
          { 200: Type.Object({ user_id: Type.String(), role: Type.String() }) },
          400,
          401,
          403,
          404,
          422,
          502,
          503,
          504,
        ),
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

export default orgRoutes;
