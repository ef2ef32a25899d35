import { randomUUID } from 'node:crypto';
import { SignJWT, type JWTPayload, type KeyLike } from 'jose';
import { generateSigningKey, type KeyRing, type SigningKey } from './keys';

/** Claims of an access token; any claim set to `undefined` is left out of the token. */
export type TokenClaims = JWTPayload & Record<string, unknown>;

export interface SignTokenOptions {
  /** `kid` header; default the current key's; `null` leaves the header out. */
  kid?: string | null;
  /** Default `RS256`. `none` gives an unsigned token (`<header>.<payload>.`). */
  alg?: string;
  /** Signing key; default the current key's private key. `HS*` algorithms take a `Uint8Array` secret. */
  key?: KeyLike | Uint8Array;
  /** Extra or overriding protected-header fields. */
  header?: Record<string, unknown>;
  /** Sign exactly `claims`, without the defaults (iss, sub, iat, nbf, exp, azp, typ, ...). */
  raw?: boolean;
}

export interface AccessTokenUser {
  sub: string;
  email: string;
  full_name: string;
}

/**
 * Tokens a verifier must reject, each built so that exactly one thing is wrong. `claims` override
 * the defaults, as in `signToken`.
 */
export interface TokenForgery {
  /** Signed by the current key, then the payload is changed (sub and roles), keeping the signature. */
  tampered(claims?: TokenClaims): Promise<string>;
  /** `exp` a minute in the past. */
  expired(claims?: TokenClaims): Promise<string>;
  /** `nbf` (and `iat`) ten minutes in the future. */
  notYetValid(claims?: TokenClaims): Promise<string>;
  /** `iss` of another realm. */
  wrongIssuer(claims?: TokenClaims): Promise<string>;
  /** `alg: none`, the current `kid`, an empty signature. */
  algNone(claims?: TokenClaims): Promise<string>;
  /** `HS256` with the current key's public PEM as the HMAC secret (algorithm confusion), the current `kid`. */
  hs256WithPublicKey(claims?: TokenClaims): Promise<string>;
  /** RS256 by a key the JWKS does not list, under a `kid` the JWKS does not list. */
  unknownKid(claims?: TokenClaims): Promise<string>;
  /** RS256 by a key the JWKS does not list, under the current key's `kid` (bad signature). */
  wrongKey(claims?: TokenClaims): Promise<string>;
  /** Valid signature by the current key but no `kid` header. */
  withoutKid(claims?: TokenClaims): Promise<string>;
  /** Three segments that are not base64url JSON. */
  malformed(): string;
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

function dropUndefined(claims: TokenClaims): TokenClaims {
  return Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined));
}

/** Signs access tokens for the fake (Keycloak's shape) and builds forged ones for tests. */
export class TokenMinter {
  private strangerKey: Promise<SigningKey> | null = null;

  constructor(
    private readonly keys: KeyRing,
    private readonly issuer: () => string,
    private readonly ttlSec: () => number,
  ) {}

  /** Keycloak's claims for a random user; `overrides` win. */
  defaultClaims(overrides: TokenClaims = {}): TokenClaims {
    const now = Math.floor(Date.now() / 1000);
    const sub = typeof overrides.sub === 'string' ? overrides.sub : randomUUID();
    const email = typeof overrides.email === 'string' ? overrides.email : `user-${sub.slice(0, 8)}@example.test`;
    return {
      exp: now + this.ttlSec(),
      iat: now,
      nbf: now,
      jti: randomUUID(),
      iss: this.issuer(),
      aud: 'account',
      sub,
      typ: 'Bearer',
      azp: 'auth-service',
      sid: randomUUID(),
      realm_access: { roles: ['default-roles-auth-service', 'offline_access', 'uma_authorization'] },
      scope: 'email profile',
      email_verified: false,
      name: '',
      preferred_username: email,
      email,
      ...overrides,
    };
  }

  accessTokenFor(user: AccessTokenUser, sessionId: string): Promise<string> {
    return this.sign({
      sub: user.sub,
      sid: sessionId,
      email: user.email,
      name: user.full_name,
      preferred_username: user.email,
    });
  }

  async sign(claims: TokenClaims = {}, options: SignTokenOptions = {}): Promise<string> {
    const payload = dropUndefined(options.raw ? claims : this.defaultClaims(claims));
    const alg = options.alg ?? 'RS256';
    const kid = options.kid === undefined ? this.keys.current.kid : options.kid;
    const header: Record<string, unknown> = { alg, typ: 'JWT', ...(kid === null ? {} : { kid }), ...options.header };
    if (alg === 'none') return `${b64(header)}.${b64(payload)}.`;
    return new SignJWT(payload)
      .setProtectedHeader({ ...header, alg })
      .sign(options.key ?? this.keys.current.privateKey);
  }

  forgery(): TokenForgery {
    const now = () => Math.floor(Date.now() / 1000);
    return {
      tampered: async (claims = {}) => {
        const token = await this.sign(claims);
        const [header, payload, signature] = token.split('.') as [string, string, string];
        const changed = JSON.parse(Buffer.from(payload, 'base64url').toString()) as TokenClaims;
        changed.sub = randomUUID();
        changed.realm_access = { roles: ['admin'] };
        return `${header}.${b64(changed)}.${signature}`;
      },
      expired: (claims = {}) => this.sign({ iat: now() - 600, nbf: now() - 600, exp: now() - 60, ...claims }),
      notYetValid: (claims = {}) => this.sign({ iat: now() + 600, nbf: now() + 600, exp: now() + 900, ...claims }),
      wrongIssuer: (claims = {}) => this.sign({ iss: 'http://127.0.0.1:1/realms/another-realm', ...claims }),
      algNone: (claims = {}) => this.sign(claims, { alg: 'none' }),
      hs256WithPublicKey: (claims = {}) =>
        this.sign(claims, { alg: 'HS256', key: new TextEncoder().encode(this.keys.current.publicPem) }),
      unknownKid: async (claims = {}) => {
        const stranger = await this.stranger();
        return this.sign(claims, { kid: stranger.kid, key: stranger.privateKey });
      },
      wrongKey: async (claims = {}) => {
        const stranger = await this.stranger();
        return this.sign(claims, { kid: this.keys.current.kid, key: stranger.privateKey });
      },
      withoutKid: (claims = {}) => this.sign(claims, { kid: null }),
      malformed: () => 'not-a-jwt.at-all.really',
    };
  }

  /** One key outside the realm, made on first use (RSA key generation takes a moment). */
  private stranger(): Promise<SigningKey> {
    this.strangerKey ??= generateSigningKey();
    return this.strangerKey;
  }
}
