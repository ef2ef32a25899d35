import type { FastifyPluginAsync } from 'fastify';
import logoutRoutes from './logout';
import tokenRoutes from './tokens';

/** The public /v1/client session routes proxied directly to the auth service (gateway-http.md); the user's own are in account.ts. */
const clientRoutes: FastifyPluginAsync = async (app) => {
  await app.register(tokenRoutes);
  await app.register(logoutRoutes);
};

export default clientRoutes;
