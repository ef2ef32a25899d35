import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors as joseErrors } from 'jose';
import type { KeyRing } from './keys';
import type { FakeSession, FakeUser } from './model';
import type { AuthStore } from './store';
import type { TokenMinter } from './tokens';
import { DetailError, isUuid } from './validation';

/** What the routes need from the running fake. */
export interface AuthFakeContext {
  store: AuthStore;
  keys: KeyRing;
  tokens: TokenMinter;
  /** Path part of the issuer (`/realms/auth-service`): where the JWKS and discovery document are served. */
  issuerPath: string;
  issuer(): string;
  /** The fake's own base URL (discovery URLs are absolute). */
  baseUrl(): string;
  internalKey: string;
  accessTokenTtlSec(): number;
  sessionTtlSec: number;
  /** Simulated Keycloak outage: sign-in says `Invalid credentials`, sign-up and logout fail with 400. */
  keycloakDown(): boolean;
  /** `'sign-in'`: sign-up of a registered e-mail with its password answers 201 with tokens. */
  signUpOfRegistered(): 'reject' | 'sign-in';
}

/** Where the service's own cookies land: never where a browser would send them back to the gateway. */
const COOKIE_PATH = '/v1/client/cookies';

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export const params = (request: FastifyRequest): Record<string, string> => request.params as Record<string, string>;

/** What several routes do with a request: authenticate it, check the internal key, shape answers. */
export class AuthRequests {
  constructor(private readonly ctx: AuthFakeContext) {}

  async authenticate(request: FastifyRequest): Promise<FakeUser> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (!match) throw new DetailError(401, 'Not authenticated');
    let claims;
    try {
      claims = await this.ctx.keys.verify(match[1]!, this.ctx.issuer());
    } catch (err) {
      throw new DetailError(401, err instanceof joseErrors.JWTExpired ? 'Token has expired' : 'Invalid token');
    }
    if (claims.typ !== 'Bearer' || typeof claims.sub !== 'string' || !isUuid(claims.sub)) {
      throw new DetailError(401, 'Invalid token');
    }
    return this.ctx.store.userFromClaims(claims.sub, claims);
  }

  requireInternalKey(request: FastifyRequest): void {
    const given = request.headers['x-internal-key'];
    if (typeof given !== 'string' || !timingSafeEqual(sha256(given), sha256(this.ctx.internalKey))) {
      throw new DetailError(401, 'Invalid internal key');
    }
  }

  userView(user: FakeUser) {
    return {
      sub: user.sub,
      email: user.email,
      full_name: user.full_name,
      orgs: this.ctx.store.orgsOf(user.sub),
      active_org_id: user.active_org_id,
    };
  }

  async tokenResponse(user: FakeUser, session: FakeSession, refreshToken: string) {
    return {
      access_token: await this.ctx.tokens.accessTokenFor(user, session.id),
      refresh_token: refreshToken,
      token_type: 'Bearer',
      expires_in: this.ctx.accessTokenTtlSec(),
    };
  }

  setOwnCookies(reply: FastifyReply, body: { access_token: string; refresh_token: string }): void {
    reply.header('set-cookie', [
      `access_token=${body.access_token}; HttpOnly; Max-Age=${this.ctx.accessTokenTtlSec()}; Path=${COOKIE_PATH}; SameSite=lax`,
      `refresh_token=${body.refresh_token}; HttpOnly; Max-Age=${this.ctx.sessionTtlSec}; Path=${COOKIE_PATH}; SameSite=lax`,
    ]);
  }
}
