import type { FastifyInstance, FastifyPluginAsync, FastifyReply } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { decodeJwt } from 'jose';
import { HttpError } from '../../../errors';
import { reshapeAuthError } from '../../../upstreams/auth-service';
import type { MeResponse } from '../../../auth/types';
import type { UpstreamTokens } from '../../../auth/sign-up-types';
import { userFromMe } from '../../../auth/user';
import { sessionResponse } from '../../token-response';
import { emitEvent } from '../../events';
import { Email, TokenResponse, withErrors } from '../../schemas';
import { RefreshBody, emptyBodyIsObject, refreshTokenOf } from './refresh-token';

function subjectOf(accessToken: string): string | null {
  try {
    const sub = decodeJwt(accessToken).sub;
    return typeof sub === 'string' ? sub : null;
  } catch {
    return null;
  }
}

/** The token response, with `user` from /v1/client/me called with the new token when asked for. */
async function tokenResponse(app: FastifyInstance, reply: FastifyReply, tokens: UpstreamTokens, withUser: boolean) {
  const user = withUser
    ? userFromMe(
        (await app.deps.authService.expect<MeResponse>('GET', '/v1/client/me', [200], { token: tokens.access_token }))
          .body,
      )
    : undefined;
  return sessionResponse(reply, app.config, tokens, user);
}

const SignInBody = Type.Object({ email: Email, password: Type.String({ minLength: 1, maxLength: 128 }) });

/** Sign-in and refresh: the routes that answer with a token response (and set the session cookies). */
const tokenRoutes: FastifyPluginAsync = async (app) => {
  const { authService } = app.deps;

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
      const body = await tokenResponse(app, reply, res.body, true);
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
      const body = await tokenResponse(app, reply, res.body, false);
      const userId = subjectOf(body.access_token);
      if (userId) await emitEvent(app, request, 'token_refreshed', { user_id: userId });
      return body;
    },
  );
};

export default tokenRoutes;
