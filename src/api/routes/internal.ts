import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { HttpError } from '../../errors';
import { constantTimeEqual } from '../../lib/constant-time';
import { closeIfBodyPending } from '../plugins/auth';
import { emitEvent } from '../events';
import { Member, Uuid, withErrors } from '../schemas';

const IdParams = Type.Object({ id: Uuid });
const ValidateQuery = Type.Object({ token: Type.Optional(Type.String({ maxLength: 16_384 })) });
const ValidateResponse = Type.Union([
  Type.Object({
    valid: Type.Literal(true),
    sub: Type.String(),
    email: Type.Union([Type.String(), Type.Null()]),
    exp: Type.Integer(),
    roles: Type.Array(Type.String()),
    active_org_id: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  }),
  Type.Object({ valid: Type.Literal(false), reason: Type.String() }),
]);
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

/**
 * Internal /auth/* for other services, guarded by X-Internal-Key (constant-time compare).
 * /auth/validate is answered from the gateway's own verification (no upstream call with JWKS).
 */
const internalRoutes: FastifyPluginAsync = async (app) => {
  const { authService, tokenVerifier } = app.deps;

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const key = request.headers['x-internal-key'];
    if (typeof key !== 'string' || !constantTimeEqual(key, app.config.INTERNAL_SERVICE_KEY)) {
      closeIfBodyPending(request, reply);
      throw new HttpError('unauthorized', 'Missing or invalid X-Internal-Key');
    }
  });

  const security = [{ internalKey: [] }];

  app.get<{ Querystring: Static<typeof ValidateQuery> }>(
    '/auth/validate',
    {
      schema: {
        tags: ['internal'],
        summary: 'Validate an access token (Authorization: Bearer, or ?token=)',
        security,
        querystring: ValidateQuery,
        response: withErrors({ 200: ValidateResponse }, 400, 401, 503),
      },
    },
    async (request) => {
      const header = request.headers.authorization;
      const fromHeader = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header)?.[1] : undefined;
      const token = fromHeader ?? request.query.token;
      if (!token) throw new HttpError('bad_request', 'A token is required (Authorization: Bearer or ?token=)');
      const result = await tokenVerifier.check(token);
      if (!result.valid) {
        await emitEvent(app, request, 'token_validated', { user_id: null, valid: false, reason: result.reason });
        return { valid: false as const, reason: result.reason };
      }
      const u = result.user;
      await emitEvent(app, request, 'token_validated', { user_id: u.sub, valid: true });
      return { valid: true as const, sub: u.sub, email: u.email, exp: u.exp, roles: u.roles };
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/auth/user/:id',
    {
      schema: {
        tags: ['internal'],
        summary: 'A user by id',
        security,
        params: IdParams,
        response: withErrors({ 200: InternalUser }, 401, 404, 422, 502, 503, 504),
      },
    },
    async (request) => {
      const res = await authService.expect<Static<typeof InternalUser>>(
        'GET',
        `/auth/user/${request.params.id}`,
        [200],
        { internal: true },
      );
      await emitEvent(app, request, 'user_detail_requested', { user_id: request.params.id });
      return res.body;
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/auth/user/:id/orgs',
    {
      schema: {
        tags: ['internal'],
        summary: "A user's organisations",
        security,
        params: IdParams,
        response: withErrors({ 200: Type.Array(InternalMembership) }, 401, 404, 422, 502, 503, 504),
      },
    },
    async (request) => {
      const res = await authService.expect<Static<typeof InternalMembership>[]>(
        'GET',
        `/auth/user/${request.params.id}/orgs`,
        [200],
        { internal: true },
      );
      await emitEvent(app, request, 'user_orgs_requested', { user_id: request.params.id });
      return res.body;
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/auth/org/:id',
    {
      schema: {
        tags: ['internal'],
        summary: 'An organisation by id',
        security,
        params: IdParams,
        response: withErrors({ 200: InternalOrg }, 401, 404, 422, 502, 503, 504),
      },
    },
    async (request) => {
      const res = await authService.expect<Static<typeof InternalOrg>>('GET', `/auth/org/${request.params.id}`, [200], {
        internal: true,
      });
      return res.body;
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/auth/org/:id/members',
    {
      schema: {
        tags: ['internal'],
        summary: 'Members of an organisation',
        security,
        params: IdParams,
        response: withErrors({ 200: Type.Array(Member) }, 401, 404, 422, 502, 503, 504),
      },
    },
    async (request) => {
      const res = await authService.expect<Static<typeof Member>[]>(
        'GET',
        `/auth/org/${request.params.id}/members`,
        [200],
        { internal: true },
      );
      await emitEvent(app, request, 'members_listed', { org_id: request.params.id });
      return res.body;
    },
  );
};

export default internalRoutes;
