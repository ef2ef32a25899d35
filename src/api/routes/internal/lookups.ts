import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { recordAccess } from '../../events';
import { Member, Uuid, withErrors } from '../../schemas';

const IdParams = Type.Object({ id: Uuid });
const InternalUser = Type.Object({
  sub: Type.String(),
  email: Type.String(),
  full_name: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.Optional(Type.String()),
});
const InternalOrg = Type.Object({ org_id: Type.String(), name: Type.String(), owner_id: Type.String() });
const InternalMembership = Type.Object({
  org_id: Type.String(),
  name: Type.String(),
  role: Type.String(),
  is_owner: Type.Boolean(),
});

interface Lookup {
  /** The gateway's path, which is also the auth service's. */
  path: string;
  summary: string;
  response: TSchema;
  /** The access event the lookup emits, if any. */
  emit?: (app: FastifyInstance, request: FastifyRequest, id: string) => void;
}

const LOOKUPS: Lookup[] = [
  {
    path: '/auth/user/:id',
    summary: 'A user by id',
    response: InternalUser,
    emit: (app, request, id) => recordAccess(app, request, 'user_detail_requested', { user_id: id }),
  },
  {
    path: '/auth/user/:id/orgs',
    summary: "A user's organisations",
    response: Type.Array(InternalMembership),
    emit: (app, request, id) => recordAccess(app, request, 'user_orgs_requested', { user_id: id }),
  },
  { path: '/auth/org/:id', summary: 'An organisation by id', response: InternalOrg },
  {
    path: '/auth/org/:id/members',
    summary: 'Members of an organisation',
    response: Type.Array(Member),
    emit: (app, request, id) => recordAccess(app, request, 'members_listed', { org_id: id }),
  },
];

/** Users and organisations by id, passed through from the auth service's own internal endpoints. */
const internalLookupRoutes: FastifyPluginAsync = async (app) => {
  const { authService } = app.deps;
  const security = [{ internalKey: [] }];

  for (const lookup of LOOKUPS) {
    app.get<{ Params: Static<typeof IdParams> }>(
      lookup.path,
      {
        schema: {
          tags: ['internal'],
          summary: lookup.summary,
          security,
          params: IdParams,
          response: withErrors({ 200: lookup.response }, 401, 404, 422, 502, 503, 504),
        },
      },
      async (request) => {
        const { id } = request.params;
        const res = await authService.expect('GET', lookup.path.replace(':id', id), [200], { internal: true });
        lookup.emit?.(app, request, id);
        return res.body;
      },
    );
  }
};

export default internalLookupRoutes;
