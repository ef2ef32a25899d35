import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { HttpError } from '../../errors';
import { reshapeAuthError } from '../../upstreams/auth-service';
import { emitEvent, recordAccess } from '../events';
import { orgMembership } from '../membership';
import { Member, Uuid, withErrors } from '../schemas';

const OrgParams = Type.Object({ id: Uuid });
const CreateOrgBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) });
/** Roles a client may set (gateway-http.md): owner is never assignable through the API. */
export const AssignableRole = Type.Union([Type.Literal('admin'), Type.Literal('member')]);

/**
 * Organisation routes proxied directly to the auth service (the owner's member changes are in
 * org-members.ts); the invite routes are workflow-backed (invites/).
 */
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
      recordAccess(app, request, 'members_listed', { org_id: request.params.id });
      return res.body;
    },
  );
};

export default orgRoutes;
