import type { FastifyPluginAsync } from 'fastify';
import answerStreamRoutes from './answer-stream';
import conversationImportRoutes from './conversation-import';
import conversationRoutes from './conversations';
import documentRoutes from './documents';
import messageRoutes from './messages';
import promptRoutes from './prompts';

export { default as chatSettingsRoutes } from './settings';

/**
 * The user chat routes (gateway-http.md → Chat), registered in the authenticated scope
 * (routes/authenticated.ts); the public settings route is chatSettingsRoutes. Every call goes
 * through the one ChatRequestReply with `user_context` from the verified token.
 */
const chatRoutes: FastifyPluginAsync = async (app) => {
  // Chat bodies are JSON (documents: also multipart); anything else is 415, not a string body.
  app.removeContentTypeParser('text/plain');
  await app.register(conversationRoutes);
  await app.register(conversationImportRoutes);
  await app.register(messageRoutes);
  await app.register(answerStreamRoutes);
  await app.register(promptRoutes);
  await app.register(documentRoutes);
};

export default chatRoutes;
