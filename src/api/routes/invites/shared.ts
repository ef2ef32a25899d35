import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError } from '../../../errors';
import { orgMembership } from '../../membership';

export async function assertOwner(app: FastifyInstance, request: FastifyRequest, orgId: string) {
  const membership = await orgMembership(app, request, orgId);
  if (!(membership.is_owner || membership.role === 'owner'))
    throw new HttpError('forbidden', 'Insufficient permissions');
}
