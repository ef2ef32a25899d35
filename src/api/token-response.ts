import type { FastifyReply } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { SignedUpUser, UpstreamTokens } from '../auth/sign-up-types';
import type { Config } from '../config';
import { setSessionCookies } from './cookies';
import type { TokenResponse } from './schemas';

/**
 * The token response of sign-up, sign-in and refresh: the upstream token fields plus `jwt` and,
 * when known, `user`; sets the gateway's own session cookies on the way.
 */
export function sessionResponse(
  reply: FastifyReply,
  config: Pick<Config, 'COOKIE_SECURE'>,
  tokens: UpstreamTokens,
  user?: SignedUpUser,
): Static<typeof TokenResponse> {
  setSessionCookies(reply, config, tokens);
  return {
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    token_type: tokens.token_type ?? 'Bearer',
    expires_in: tokens.expires_in,
    jwt: tokens.access_token,
    ...(user ? { user: { ...user, sub: user.user_id } } : {}),
  };
}
