import type { AuthFakeContext } from './context';
import type { RouteTable } from './routing';

/** Health, the Keycloak realm's JWKS and discovery document, and the service's API docs. */
export function registerRealmRoutes(table: RouteTable, ctx: AuthFakeContext): void {
  const { route } = table;
  route('GET', '/health', async () => ({ status: 'ok' }));

  route('GET', `${ctx.issuerPath}/protocol/openid-connect/certs`, async (_request, reply) =>
    reply.header('cache-control', 'no-cache').send(ctx.keys.jwks()),
  );
  route('GET', `${ctx.issuerPath}/.well-known/openid-configuration`, async () => {
    const base = `${ctx.baseUrl()}${ctx.issuerPath}`;
    return {
      issuer: ctx.issuer(),
      authorization_endpoint: `${base}/protocol/openid-connect/auth`,
      token_endpoint: `${base}/protocol/openid-connect/token`,
      userinfo_endpoint: `${base}/protocol/openid-connect/userinfo`,
      end_session_endpoint: `${base}/protocol/openid-connect/logout`,
      jwks_uri: `${base}/protocol/openid-connect/certs`,
      grant_types_supported: ['authorization_code', 'refresh_token', 'password'],
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    };
  });

  route('GET', '/openapi.json', async () => {
    const paths: Record<string, Record<string, object>> = {};
    for (const r of table.entries) {
      if (r.method === 'HEAD') continue;
      const path = r.url.replace(/:([A-Za-z_]+)/g, '{$1}');
      (paths[path] ??= {})[r.method.toLowerCase()] = { responses: {} };
    }
    return { openapi: '3.1.0', info: { title: 'Auth Service', version: '1.0.0' }, paths };
  });
  route('GET', '/docs', async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .send('<!DOCTYPE html><html><head><title>Auth Service - Swagger UI</title></head><body></body></html>'),
  );
}
