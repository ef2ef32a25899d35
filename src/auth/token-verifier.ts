import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { Config } from '../config';
import { HttpError } from '../errors';
import type { Logger } from '../logger';
import type { AuthServiceClient } from '../upstreams/auth-service';
import { tokenHash } from './hashing';
import type { TokenDenylist } from './denylist';
import type { AuthenticatedUser } from './types';
import { LruMap } from '../lib/bounded-map';
import { IssuerKeys } from './issuer-keys';
import { VerifiedTokens } from './verified-tokens';

const VALIDATE_CACHE_MAX_MS = 60_000;
const NEGATIVE_CACHE_MS = 5_000;
const CACHE_LIMIT = 50_000;
const VERIFIED_CACHE_LIMIT = 10_000;

export type VerifyFailure =
  | 'malformed'
  | 'invalid_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'revoked'
  | 'invalid';

export class TokenRejected extends HttpError {
  /** `user`: only for `revoked`, whose signature and claims were checked (a retried logout needs its subject). */
  constructor(
    readonly reason: VerifyFailure,
    readonly user?: AuthenticatedUser,
  ) {
    super(
      'unauthorized',
      reason === 'revoked' ? 'Token has been revoked' : reason === 'expired' ? 'Token has expired' : 'Invalid token',
      {
        headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
      },
    );
  }
}

function reasonOf(err: unknown): VerifyFailure {
  if (err instanceof joseErrors.JWTExpired) return 'expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return 'not_yet_valid';
    if (err.claim === 'iss') return 'wrong_issuer';
    if (err.claim === 'aud') return 'wrong_audience';
    return 'invalid';
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'invalid_signature';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'invalid_signature';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'invalid_signature';
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) return 'malformed';
  return 'invalid';
}

function userFrom(payload: JWTPayload, token: string): AuthenticatedUser {
  const p = payload as JWTPayload & { email?: unknown; name?: unknown; realm_access?: { roles?: unknown } };
  const roles = Array.isArray(p.realm_access?.roles)
    ? p.realm_access.roles.filter((r): r is string => typeof r === 'string')
    : [];
  return {
    sub: String(p.sub),
    email: typeof p.email === 'string' ? p.email : null,
    name: typeof p.name === 'string' ? p.name : null,
    roles,
    exp: Number(p.exp),
    token,
    authorization: `Bearer ${token}`,
    tokenHash: tokenHash(token),
  };
}

/**
 * Verifies access tokens at the edge. With AUTH_JWKS_URL: signature against the issuer's JWKS
 * (cached; an unknown kid refetches at most once per AUTH_JWKS_REFRESH_FLOOR_MS), algorithm
 * allowlist, exp/nbf, iss, optional aud/azp — no call to the auth service. Without it: the auth
 * service's /v1/client/validate, cached until exp (at most 60 s). Either way the logout denylist
 * has the last word.
 */
export class TokenVerifier {
  private readonly jwks?: IssuerKeys;
  private readonly validateCache = new LruMap<string, { until: number; user?: AuthenticatedUser }>(CACHE_LIMIT);
  private readonly verifiedTokens = new VerifiedTokens(VERIFIED_CACHE_LIMIT);

  constructor(
    private readonly config: Pick<
      Config,
      | 'AUTH_JWKS_URL'
      | 'AUTH_JWKS_REFRESH_FLOOR_MS'
      | 'AUTH_ALGORITHMS'
      | 'AUTH_ISSUER'
      | 'AUTH_AUDIENCE'
      | 'AUTH_AUTHORIZED_PARTY'
    >,
    private readonly authService: AuthServiceClient,
    private readonly denylist: TokenDenylist,
    logger: Logger,
  ) {
    if (config.AUTH_JWKS_URL) {
      this.jwks = new IssuerKeys(config.AUTH_JWKS_URL, config.AUTH_JWKS_REFRESH_FLOOR_MS, logger);
    }
  }

  get mode(): 'jwks' | 'upstream' {
    return this.jwks ? 'jwks' : 'upstream';
  }

  async verify(token: string): Promise<AuthenticatedUser> {
    // A remembered token passed the shape and signature checks when it was added; expiry and the
    // denylist are still checked on every request.
    const user = this.verifiedTokens.get(token, Date.now()) ?? (await this.checkToken(token));
    if (await this.denylist.isRevoked(user.tokenHash)) throw new TokenRejected('revoked', user);
    return user;
  }

  /**
   * A token whose signature and claims were checked is remembered until its exp (at most 60 s):
   * the RS256 check was a quarter of the direct path's CPU (docs/performance.md). Only successes
   * are cached, so forged tokens are checked every time.
   */
  private async checkToken(token: string): Promise<AuthenticatedUser> {
    if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/.test(token) || token.length > 16_384)
      throw new TokenRejected('malformed');
    if (!this.jwks) return this.verifyUpstream(token);
    const now = Date.now();
    const user = await this.verifyLocally(token);
    this.verifiedTokens.set(token, user, Math.min(user.exp * 1000, now + VALIDATE_CACHE_MAX_MS));
    return user;
  }

  /** Like `verify`, but answers the reason instead of throwing (for /auth/validate). */
  async check(
    token: string,
  ): Promise<
    { valid: true; user: AuthenticatedUser } | { valid: false; reason: VerifyFailure; user?: AuthenticatedUser }
  > {
    try {
      return { valid: true, user: await this.verify(token) };
    } catch (err) {
      if (err instanceof TokenRejected) return { valid: false, reason: err.reason, user: err.user };
      throw err;
    }
  }

  private async verifyLocally(token: string): Promise<AuthenticatedUser> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.jwks!.getKey, {
        algorithms: this.config.AUTH_ALGORITHMS,
        issuer: this.config.AUTH_ISSUER || undefined,
        audience: this.config.AUTH_AUDIENCE || undefined,
        requiredClaims: ['sub', 'exp'],
        clockTolerance: 5,
      }));
    } catch (err) {
      if (err instanceof HttpError) throw err; // issuer keys unavailable: 503
      throw new TokenRejected(reasonOf(err));
    }
    const azp = (payload as { azp?: unknown }).azp;
    if (this.config.AUTH_AUTHORIZED_PARTY && azp !== this.config.AUTH_AUTHORIZED_PARTY)
      throw new TokenRejected('wrong_audience');
    const typ = (payload as { typ?: unknown }).typ;
    if (typ !== undefined && typ !== 'Bearer') throw new TokenRejected('invalid'); // refresh or ID tokens are not access tokens
    return userFrom(payload, token);
  }

  private async verifyUpstream(token: string): Promise<AuthenticatedUser> {
    const key = tokenHash(token);
    const now = Date.now();
    const cached = this.validateCache.get(key);
    if (cached && cached.until > now) {
      if (!cached.user) throw new TokenRejected('invalid');
      return cached.user;
    }
    const res = await this.authService.call<{ valid?: boolean; sub?: string | null; exp?: number | null }>(
      'GET',
      '/v1/client/validate',
      {
        query: { token },
      },
    );
    if (res.status !== 200) {
      if (res.status >= 500) throw new HttpError('upstream_unavailable', 'Auth service could not validate the token');
      this.remember(key, { until: now + NEGATIVE_CACHE_MS });
      throw new TokenRejected('invalid');
    }
    const { valid, sub, exp } = res.body;
    if (!valid || !sub || !exp || exp * 1000 <= now) {
      this.remember(key, { until: now + NEGATIVE_CACHE_MS });
      throw new TokenRejected(exp && exp * 1000 <= now ? 'expired' : 'invalid');
    }
    const user: AuthenticatedUser = {
      sub,
      email: null,
      name: null,
      roles: [],
      exp,
      token,
      authorization: `Bearer ${token}`,
      tokenHash: key,
    };
    this.remember(key, { until: Math.min(exp * 1000, now + VALIDATE_CACHE_MAX_MS), user });
    return user;
  }

  private remember(key: string, entry: { until: number; user?: AuthenticatedUser }) {
    this.validateCache.set(key, entry);
  }
}
