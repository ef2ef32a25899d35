import type { FastifyReply } from 'fastify';
import type { Config } from '../config';

export interface SessionTokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  refresh_expires_in?: number;
}

/** The gateway's own session cookies (gateway-http.md, Cookies); upstream Set-Cookie never passes. */
export function setSessionCookies(
  reply: FastifyReply,
  config: Pick<Config, 'COOKIE_SECURE'>,
  tokens: SessionTokens,
): void {
  const base = { httpOnly: true, sameSite: 'lax' as const, secure: config.COOKIE_SECURE };
  void reply.setCookie('access_token', tokens.access_token, { ...base, path: '/', maxAge: tokens.expires_in });
  void reply.setCookie('refresh_token', tokens.refresh_token, {
    ...base,
    path: '/v1/client',
    ...(tokens.refresh_expires_in ? { maxAge: tokens.refresh_expires_in } : {}),
  });
}

export function clearSessionCookies(reply: FastifyReply, config: Pick<Config, 'COOKIE_SECURE'>): void {
  const base = { httpOnly: true, sameSite: 'lax' as const, secure: config.COOKIE_SECURE };
  void reply.clearCookie('access_token', { ...base, path: '/' });
  void reply.clearCookie('refresh_token', { ...base, path: '/v1/client' });
}
