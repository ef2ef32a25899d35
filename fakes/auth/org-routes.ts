import type { FastifyRequest } from 'fastify';
import { params, type AuthFakeContext, type AuthRequests } from './context';
import { ASSIGNABLE_ROLES, type FakeUser, type OrgRole } from './model';
import type { Route } from './routing';
import { DetailError, canonicalUuid, isUuid, parseBody, uuidParam } from './validation';

const roleSpec = { kind: 'enum', values: ASSIGNABLE_ROLES } as const;

/** Organisations, members and invites, for the signed-in caller. */
export function registerOrgRoutes(route: Route, ctx: AuthFakeContext, h: AuthRequests): void {
  const { store } = ctx;
  route('POST', '/v1/org', async (request) => {
    const user = await h.authenticate(request);
    const body = parseBody(request.body, { name: { kind: 'string', minLength: 1 } });
    return { org_id: store.createOrg(user.sub, body.name).org_id };
  });

  route('GET', '/v1/org/:org_id', async (request) => {
    await h.authenticate(request);
    const org = store.getOrg(uuidParam(params(request).org_id!, 'org_id'));
    return { org_id: org.org_id, name: org.name, owner_id: org.owner_id };
  });

  // No membership check: the gateway has to do it.
  route('GET', '/v1/org/:org_id/members', async (request) => {
    await h.authenticate(request);
    return store.membersOf(uuidParam(params(request).org_id!, 'org_id'));
  });

  route('POST', '/v1/org/:org_id/invite', async (request) => {
    const user = await h.authenticate(request);
    const orgId = uuidParam(params(request).org_id!, 'org_id');
    const body = parseBody(request.body, { email: { kind: 'email' }, role: { ...roleSpec, default: 'member' } });
    const invite = store.invite(user.sub, orgId, body.email, body.role as OrgRole);
    return { invite_token: invite.token };
  });

  route('POST', '/v1/invite/accept', async (request) => {
    const user = await h.authenticate(request);
    const body = parseBody(request.body, { invite_token: { kind: 'string' } });
    const invite = store.acceptInvite(user, body.invite_token);
    return { org_id: invite.org_id, role: invite.role };
  });

  route('DELETE', '/v1/org/:org_id/member/:user_id', async (request, reply) => {
    const user = await h.authenticate(request);
    const orgId = uuidParam(params(request).org_id!, 'org_id');
    const memberId = uuidParam(params(request).user_id!, 'user_id');
    store.removeMember(user.sub, orgId, memberId);
    return reply.code(204).send();
  });

  route('PATCH', '/v1/org/:org_id/member/:user_id/role', async (request) => {
    const user = await h.authenticate(request);
    const orgId = uuidParam(params(request).org_id!, 'org_id');
    const memberId = uuidParam(params(request).user_id!, 'user_id');
    const body = parseBody(request.body, { role: roleSpec });
    store.setMemberRole(user.sub, orgId, memberId, body.role as OrgRole);
    return { user_id: memberId, role: body.role };
  });
}

/** The internal API (X-Internal-Key): ids as plain strings, anything unknown (or not a UUID) is a 404. */
export function registerInternalRoutes(route: Route, ctx: AuthFakeContext, h: AuthRequests): void {
  const { store } = ctx;
  const internalUser = (request: FastifyRequest): FakeUser => {
    h.requireInternalKey(request);
    const id = params(request).user_id!;
    const user = store.users.get(isUuid(id) ? canonicalUuid(id) : id);
    if (!user) throw new DetailError(404, 'User not found');
    return user;
  };
  const internalOrgId = (request: FastifyRequest): string => {
    h.requireInternalKey(request);
    const id = params(request).org_id!;
    if (!isUuid(id)) throw new DetailError(404, 'Organization not found');
    return store.getOrg(canonicalUuid(id)).org_id;
  };

  route('GET', '/auth/user/:user_id', async (request) => {
    const user = internalUser(request);
    return { sub: user.sub, email: user.email, full_name: user.full_name, created_at: user.created_at };
  });
  route('GET', '/auth/user/:user_id/orgs', async (request) => store.orgsOf(internalUser(request).sub));
  route('GET', '/auth/org/:org_id', async (request) => {
    const org = store.getOrg(internalOrgId(request));
    return { org_id: org.org_id, name: org.name, owner_id: org.owner_id };
  });
  route('GET', '/auth/org/:org_id/members', async (request) => store.membersOf(internalOrgId(request)));
}
