import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { bearerToken } from '../../plugins/auth';
import { clearSessionCookies } from '../../cookies';
import { emitEvent } from '../../events';
import { deterministicEventId } from '../../../events/outbox';
import { withErrors } from '../../schemas';
import { RefreshBody, emptyBodyIsObject, refreshTokenOf } from './refresh-token';

/** Logout: upstream logout of the refresh token, cookies cleared, the access token denylisted. */
const logoutRoutes: FastifyPluginAsync = async (app) => {
  const { authService } = app.deps;
  const { config } = app;

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

export default logoutRoutes;
