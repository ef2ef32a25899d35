import Fastify from 'fastify';
import openapi, { documentAsAuthenticated, operationIdOf } from '../../src/api/plugins/openapi';

describe('OpenAPI route descriptions', () => {
  it('derives operationIds from method and path', () => {
    expect(operationIdOf('GET', '/api/chat/conversations/:conversation_id/')).toBe(
      'getApiChatConversationsByConversationId',
    );
    expect(operationIdOf('POST', '/v1/client/sign-in/password')).toBe('postV1ClientSignInPassword');
    expect(operationIdOf('GET', '/v1/operations/*')).toBe('getV1OperationsByPath');
  });

  it('documents security from how a route authenticates; public routes need none', async () => {
    const app = Fastify();
    await app.register(openapi);
    const authenticate = async () => undefined;
    app.decorate('authenticate', authenticate);
    const schema = { response: { 200: { type: 'object' } } };
    app.get('/public', { schema }, async () => ({}));
    app.get('/own-hook', { schema, preHandler: authenticate }, async () => ({}));
    app.get('/declared', { schema: { ...schema, security: [{ internalKey: [] }] } }, async () => ({}));
    await app.register(async (scope) => {
      scope.addHook('onRequest', authenticate);
      documentAsAuthenticated(scope);
      scope.get('/in-scope', { schema }, async () => ({}));
    });
    await app.ready();
    const paths = (app.swagger() as { paths: Record<string, { get: { security: unknown; operationId: string } }> })
      .paths;
    expect(paths['/public']!.get).toMatchObject({ security: [], operationId: 'getPublic' });
    expect(paths['/own-hook']!.get.security).toEqual([{ bearer: [] }]);
    expect(paths['/declared']!.get.security).toEqual([{ internalKey: [] }]);
    expect(paths['/in-scope']!.get.security).toEqual([{ bearer: [] }]);
    await app.close();
  });
});
