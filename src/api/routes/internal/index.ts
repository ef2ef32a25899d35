import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '../../../errors';
import { constantTimeEqual } from '../../../lib/constant-time';
import { closeIfBodyPending } from '../../plugins/auth';
import internalLookupRoutes from './lookups';
import validateRoutes from './validate';

/**
 * Internal /auth/* for other services, guarded by X-Internal-Key (constant-time compare).
 * /auth/validate is answered from the gateway's own verification (no upstream call with JWKS).
 */
const internalRoutes: FastifyPluginAsync = async (app) => {
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const key = request.headers['x-internal-key'];
    if (typeof key !== 'string' || !constantTimeEqual(key, app.config.INTERNAL_SERVICE_KEY)) {
      closeIfBodyPending(request, reply);
      throw new HttpError('unauthorized', 'Missing or invalid X-Internal-Key');
    }
  });
  await app.register(validateRoutes);
  await app.register(internalLookupRoutes);
};

export default internalRoutes;
