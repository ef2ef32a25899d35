import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { decodeJwt } from 'jose';
import { HttpError } from '../../errors';
import { reshapeAuthError } from '../../upstreams/auth-service';
import type { MeResponse } from '../../auth/types';
import { bearerToken } from '../plugins/auth';
import type { UpstreamTokens } from '../../auth/sign-up-types';
import { userFromMe } from '../../auth/user';
import { clearSessionCookies } from '../cookies';
import { sessionResponse } from '../token-response';
import { emitEvent } from '../events';
import { deterministicEventId } from '../../events/outbox';
import { Email, TokenResponse, withErrors } from '../schemas';

function subjectOf(accessToken: string): string | null {
  try {
    const sub = decodeJwt(accessToken).sub;
    return typeof sub === 'string' ? sub : null;
  } catch {
    return null;
  }
}

const SignInBody = Type.Object({ email: Email, password: Type.String({ minLength: 1, maxLength: 128 }) });
const RefreshBody = Type.Object({ refresh_token: Type.Optional(Type.String({ minLength: 1, maxLength: 8192 })) });

/** The public /v1/client session routes proxied directly to the auth service (gateway-http.md); the user's own are in account.ts. */
const clientRoutes: FastifyPluginAsync = async (app) => {
  const { authService } = app.deps;
  const { config } = app;

  /** The token response, with `user` from /v1/client/me called with the new token when asked for. */
  async function tokenResponse(reply: FastifyReply, tokens: UpstreamTokens, withUser: boolean) {
    const user = withUser
      ? userFromMe(
          (await authService.expect<MeResponse>('GET', '/v1/client/me', [200], { token: tokens.access_token })).body,
        )
      : undefined;
    return sessionResponse(reply, config, tokens, user);
  }

  // Refresh and logout may come with no body at all (cookie only): validate that as `{}`.
  const emptyBodyIsObject = async (request: FastifyRequest) => {
    request.body ??= {};
  };

  function refreshTokenOf(
    request: FastifyRequest<{ Body: { refresh_token?: string } | undefined }>,
  ): string | undefined {
    return request.body?.refresh_token ?? (request.cookies?.refresh_token || undefined);
  }

  app.post<{ Body: Static<typeof SignInBody> }>(
    '/v1/client/sign-in/password',
    {
      config: { authRateLimit: true, stateEvent: true },
      schema: {
        tags: ['auth'],
        summary: 'Sign in with e-mail and password',
        body: SignInBody,
        response: withErrors({ 200: TokenResponse }, 401, 422, 429, 502, 503, 504),
      },
    },
    async (request, reply) => {
      const email = request.body.email.trim().toLowerCase();
      const res = await authService.call<UpstreamTokens>('POST', '/v1/client/sign-in/password', {
        body: { email, password: request.body.password },
      });
      if (res.status === 401 || res.status === 400) throw new HttpError('unauthorized', 'Invalid credentials');
      if (res.status !== 200) throw reshapeAuthError(res.status, res.body);
      const body = await tokenResponse(reply, res.body, true);
      await emitEvent(app, request, 'user_logged_in', { user_id: body.user!.user_id });
      return body;
    },
  );

  app.post<{ Body: Static<typeof RefreshBody> | undefined }>(
    '/v1/client/refresh_token',
    {
      config: { authRateLimit: true, stateEvent: true },
      preValidation: emptyBodyIsObject,
      schema: {
        tags: ['auth'],
        summary: 'Exchange a refresh token (body or cookie) for new tokens',
        body: Type.Optional(RefreshBody),
        response: withErrors({ 200: TokenResponse }, 400, 401, 422, 429, 502, 503, 504),
      },
    },
    async (request, reply) => {
      const refreshToken = refreshTokenOf(request);
      if (!refreshToken) throw new HttpError('bad_request', 'refresh_token is required (body or cookie)');
      const res = await authService.call<UpstreamTokens>('POST', '/v1/client/refresh_token', {
        body: { refresh_token: refreshToken },
      });
      if (res.status === 401 || res.status === 400) throw new HttpError('unauthorized', 'Invalid refresh token');
      if (res.status !== 200) throw reshapeAuthError(res.status, res.body);
      const body = await tokenResponse(reply, res.body, false);
      const userId = subjectOf(body.access_token);
      if (userId) await emitEvent(app, request, 'token_refreshed', { user_id: userId });
      return body;
    },
  );

  app.post<{ Body: Static<typeof RefreshBody> | undefined }>(
    '/v1/client/logout',
    {
      config: { stateEvent: true },
      preValidation: emptyBodyIsObject,
      schema: {
        tags: ['auth'],
        summary: 'End the session: upstream logout, cookies cleared, access token denylisted',
        body: Type.Optional(RefreshBody),
        response: withErrors({ 204: Type.Null() }, 422, 502, 503, 504),
      },
    },
    async (request, reply) => {
      const refreshToken = refreshTokenOf(request);
      const accessToken = bearerToken(request);
      let userId: string | null = null;
      let eventId: string | undefined;
      if (accessToken) {
        const checked = await app.deps.tokenVerifier.check(accessToken);
        // A logout retried after an upstream failure finds its token revoked already: same subject.
        const user = checked.valid || checked.reason === 'revoked' ? checked.user : undefined;
        if (user) {
          userId = user.sub;
          await app.deps.denylist.revoke(accessToken, user.exp, userId);
          app.forgetUserContext(accessToken);
          // One event per token: every try of this logout writes the same event id (deduplicated).
          eventId = deterministicEventId(`logout/${user.tokenHash}`, 'user_logged_out');
        }
      }
      if (refreshToken) {
        // 400 = the session is already gone upstream: logging out twice is not an error for the client.
        await authService.expect('POST', '/v1/client/logout', [200, 204, 400], {
          body: { refresh_token: refreshToken },
        });
      }
      clearSessionCookies(reply, config);
      if (userId) await emitEvent(app, request, 'user_logged_out', { user_id: userId }, { eventId });
      return reply.status(204).send();
    },
  );
};

export default clientRoutes;
