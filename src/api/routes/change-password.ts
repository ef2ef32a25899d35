import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { Password, withErrors } from '../schemas';

const ChangePasswordBody = Type.Object({
  old_password: Type.String({ minLength: 1, maxLength: 128 }),
  new_password: Password,
});

/** The caller changes their password (auth service; credential rate limit); registered in the authenticated scope. */
const changePasswordRoutes: FastifyPluginAsync = async (app) => {
  const { authService } = app.deps;

  app.post<{ Body: Static<typeof ChangePasswordBody> }>(
    '/v1/client/change-password',
    {
      config: { authRateLimit: true },
      schema: {
        tags: ['auth'],
        summary: 'Change the password',
        security: [{ bearer: [] }],
        body: ChangePasswordBody,
        response: withErrors({ 200: Type.Object({ message: Type.String() }) }, 400, 401, 422, 429, 502, 503, 504),
      },
    },
    async (request) => {
      const user = request.user!;
      const res = await authService.expect<{ message: string }>('POST', '/v1/client/change-password', [200], {
        token: user.token,
        body: request.body,
      });
      return { message: res.body.message };
    },
  );
};

export default changePasswordRoutes;
