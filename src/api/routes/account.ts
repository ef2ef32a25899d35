import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { HttpError } from '../../errors';
import { reshapeAuthError } from '../../upstreams/auth-service';
import type { MeResponse } from '../../auth/types';
import { userFromMe } from '../../auth/user';
import { emitEvent, recordAccess } from '../events';
import { User, Uuid, withErrors } from '../schemas';

export function toUser(me: MeResponse): Static<typeof User> {
  return { ...userFromMe(me), sub: me.sub };
}

const SwitchOrgBody = Type.Object({ org_id: Uuid });
const UpdateBody = Type.Object({ full_name: Type.String({ minLength: 1, maxLength: 200 }) });

/** The caller's own account (/v1/client/me, switch-org, update; change-password.ts); registered in the authenticated scope. */
const accountRoutes: FastifyPluginAsync = async (app) => {
  const { authService } = app.deps;

  app.get(
    '/v1/client/me',
    {
      schema: {
        tags: ['auth'],
        summary: 'The current user with organisations and active org',
        security: [{ bearer: [] }],
        response: withErrors({ 200: User }, 401, 502, 503, 504),
      },
    },
    async (request) => {
      const user = request.user!;
      const res = await authService.expect<MeResponse>('GET', '/v1/client/me', [200], {
        authorization: user.authorization,
      });
      recordAccess(app, request, 'user_info_requested', { user_id: user.sub });
      return toUser(res.body);
    },
  );

  app.patch<{ Body: Static<typeof SwitchOrgBody> }>(
    '/v1/client/switch-org',
    {
      config: { stateEvent: true },
      schema: {
        tags: ['auth'],
        summary: 'Switch the active organisation',
        security: [{ bearer: [] }],
        body: SwitchOrgBody,
        response: withErrors({ 200: Type.Object({ active_org_id: Type.String() }) }, 401, 403, 422, 502, 503, 504),
      },
    },
    async (request) => {
      const user = request.user!;
      const res = await authService.call<{ active_org_id: string; detail?: string }>('PATCH', '/v1/client/switch-org', {
        token: user.token,
        body: { org_id: request.body.org_id },
      });
      if (res.status === 400) throw new HttpError('forbidden', 'Not a member of this organization');
      if (res.status !== 200) throw reshapeAuthError(res.status, res.body);
      app.forgetUserContext(user.token);
      await emitEvent(app, request, 'organization_switched', { user_id: user.sub, org_id: res.body.active_org_id });
      return { active_org_id: res.body.active_org_id };
    },
  );

  app.patch<{ Body: Static<typeof UpdateBody> }>(
    '/v1/client/update',
    {
      schema: {
        tags: ['auth'],
        summary: 'Update the profile',
        security: [{ bearer: [] }],
        body: UpdateBody,
        response: withErrors({ 200: User }, 401, 422, 502, 503, 504),
      },
    },
    async (request) => {
      const user = request.user!;
      const res = await authService.expect<MeResponse>('PATCH', '/v1/client/update', [200], {
        token: user.token,
        body: { full_name: request.body.full_name },
      });
      app.forgetUserContext(user.token);
      return toUser(res.body);
    },
  );
};

export default accountRoutes;
