import type { FastifyPluginAsync } from 'fastify';
import { documentAsAuthenticated } from '../plugins/openapi';
import accountRoutes from './account';
import changePasswordRoutes from './change-password';
import chatRoutes from './chat/index';
import inviteRoutes from './invites';
import orgMemberRoutes from './org-members';
import orgRoutes from './orgs';

/**
 * Every route that needs a user, in one encapsulated scope: its onRequest hook verifies the token
 * before any body is read, so an anonymous request is refused with 401 without buffering a byte.
 * A new user route is registered here (or in a plugin registered here) and repeats no auth check.
 */
const authenticatedRoutes: FastifyPluginAsync = async (app) => {
  app.addHook('onRequest', app.authenticate);
  documentAsAuthenticated(app);
  await app.register(accountRoutes);
  await app.register(changePasswordRoutes);
  await app.register(orgRoutes);
  await app.register(orgMemberRoutes);
  await app.register(inviteRoutes);
  await app.register(chatRoutes);
};

export default authenticatedRoutes;
