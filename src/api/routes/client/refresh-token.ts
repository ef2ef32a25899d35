import type { FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';

/** Refresh and logout take the refresh token from the body or, for browsers, the cookie. */
export const RefreshBody = Type.Object({
  refresh_token: Type.Optional(Type.String({ minLength: 1, maxLength: 8192 })),
});

// Refresh and logout may come with no body at all (cookie only): validate that as `{}`.
export const emptyBodyIsObject = async (request: FastifyRequest) => {
  request.body ??= {};
};

export function refreshTokenOf(
  request: FastifyRequest<{ Body: { refresh_token?: string } | undefined }>,
): string | undefined {
  return request.body?.refresh_token ?? (request.cookies?.refresh_token || undefined);
}
