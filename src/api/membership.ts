import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { MeResponse } from '../auth/types';
import { HttpError } from '../errors';

/**
 * The caller's membership of `orgId`, read fresh from /v1/client/me (never the cached user
 * context: a removal must take effect at once); 403 when the caller is not a member.
 */
export async function orgMembership(
  app: FastifyInstance,
  request: FastifyRequest,
  orgId: string,
): Promise<MeResponse['orgs'][number]> {
  const me = await app.deps.authService.expect<MeResponse>('GET', '/v1/client/me', [200], {
    token: request.user!.token,
  });
  const membership = me.body.orgs.find((o) => o.org_id === orgId);
  if (!membership) throw new HttpError('forbidden', 'Not a member of this organization');
  return membership;
}
