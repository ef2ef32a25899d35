import type { FastifyPluginAsync } from 'fastify';
import acceptInviteRoutes from './accept';
import issueInviteRoutes from './issue';
import revokeInviteRoutes from './revoke';

/**
 * Invites (gateway-http.md, Organizations): POST /v1/org/{id}/invite starts (or joins) the
 * org-invite workflow with Update-with-Start; POST /v1/invite/accept is an update on it; the
 * owner's DELETE signals it to revoke.
 */
const inviteRoutes: FastifyPluginAsync = async (app) => {
  await app.register(issueInviteRoutes);
  await app.register(acceptInviteRoutes);
  await app.register(revokeInviteRoutes);
};

export default inviteRoutes;
