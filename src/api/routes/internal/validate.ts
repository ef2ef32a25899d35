import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { HttpError } from '../../../errors';
import { recordAccess } from '../../events';
import { withErrors } from '../../schemas';

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

/** GET /auth/validate: the gateway's own token verification, for services that hold no JWKS. */
const validateRoutes: FastifyPluginAsync = async (app) => {
  const { tokenVerifier } = app.deps;
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
        recordAccess(app, request, 'token_validated', { user_id: null, valid: false, reason: result.reason });
        return { valid: false as const, reason: result.reason };
      }
      const u = result.user;
      recordAccess(app, request, 'token_validated', { user_id: u.sub, valid: true });
      return { valid: true as const, sub: u.sub, email: u.email, exp: u.exp, roles: u.roles };
    },
  );
};

export default validateRoutes;
