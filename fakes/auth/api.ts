import type { IncomingHttpHeaders } from 'node:http';
import type { DownMode } from '../shared/listener';
import type { FakeInvite, FakeOrg, FakeSession, FakeUser, OrgRole } from './model';
import type { SignTokenOptions, TokenClaims, TokenForgery } from './tokens';

export type { DownMode };

export interface AuthFakeOptions {
  /** 0 (default) = an ephemeral port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Token `iss`; default `http://<host>:<port>/realms/auth-service`. JWKS and discovery are served at its path. */
  issuer?: string;
  /** Expected `X-Internal-Key`; default `gateway-secret-key-2024`. */
  internalKey?: string;
  /** Access-token lifetime (`exp - iat`, `expires_in`); default 300. */
  accessTokenTtlSec?: number;
  /** Refresh-session lifetime; default 1800 (Keycloak's SSO idle timeout). */
  sessionTtlSec?: number;
  /** Invite lifetime; default 7 days. */
  inviteTtlSec?: number;
  /** List an RSA-OAEP encryption key in the JWKS next to the signing keys, as Keycloak does; default true. */
  jwksEncryptionKey?: boolean;
  /** Fastify request logging; default false. */
  logger?: boolean;
  /** Nulls and unknown fields in the replies the gateway maps (variance.ts); also `setVariance`. */
  variance?: boolean;
}

/** One request as the fake received it. */
export interface AuthFakeCall {
  method: string;
  /** Path without the query string. */
  path: string;
  /** Path and query string, as sent. */
  url: string;
  /** Milliseconds since the epoch. */
  time: number;
  headers: IncomingHttpHeaders;
  /** Status answered; undefined while in flight or when the connection was cut. */
  status?: number;
}

/** Which requests a switch applies to; every request when omitted. */
export interface CallMatch {
  method?: string;
  /** Exact path (no query string) or a pattern tested against the path. */
  path?: string | RegExp;
}

export interface FailNextOptions {
  /** Default: the status text as `text/plain` (500 → "Internal Server Error"). An object is sent as JSON. */
  body?: string | object;
  contentType?: string;
  match?: CallMatch;
  /** Handle the request first (its change is applied), then lose the answer: a 5xx or a cut connection instead. */
  afterHandling?: boolean;
}

export interface AuthFake {
  /** Base URL, e.g. `http://127.0.0.1:41234` (what `AUTH_SERVICE_URL` should be). */
  readonly url: string;
  readonly port: number;
  readonly issuer: string;
  /** `<url><issuer path>/protocol/openid-connect/certs` (what `AUTH_JWKS_URL` should be). */
  readonly jwksUrl: string;
  readonly openidConfigurationUrl: string;
  readonly internalKey: string;
  /** Every request received, oldest first (cleared in place by `reset`/`clearCalls`). */
  readonly calls: AuthFakeCall[];
  callsTo(match: CallMatch): AuthFakeCall[];
  clearCalls(): void;

  readonly users: ReadonlyMap<string, Readonly<FakeUser>>;
  readonly orgs: ReadonlyMap<string, Readonly<FakeOrg>>;
  /** Keyed by invite token. */
  readonly invites: ReadonlyMap<string, Readonly<FakeInvite>>;
  /** Open refresh sessions of a user. */
  sessionsOf(userId: string): readonly Readonly<FakeSession>[];

  /** Seeds a user as sign-up would, without an HTTP call (`created_at` defaults to now). */
  createUser(input: {
    email: string;
    password: string;
    full_name?: string;
    sub?: string;
    created_at?: string;
  }): Readonly<FakeUser>;
  /** Seeds an organisation owned by `ownerId`; extra members join with the given roles. */
  createOrg(ownerId: string, name: string, members?: Record<string, OrgRole>): Readonly<FakeOrg>;
  /** A fresh session for an existing user: the sign-in body (`access_token`, `refresh_token`, ...). */
  issueTokens(userId: string): Promise<TokenResponse>;

  /**
   * Signs a token with the realm's current key. `claims` are merged over Keycloak's defaults
   * (random `sub`, `iss`, `iat`/`nbf` now, `exp` now + TTL, `azp`, `typ: Bearer`, roles...); set a
   * claim to `undefined` to leave it out, or pass `{ raw: true }` to sign `claims` as they are.
   */
  signToken(claims?: TokenClaims, options?: SignTokenOptions): Promise<string>;
  /** Tokens a verifier must reject; see `TokenForgery`. */
  readonly forge: TokenForgery;
  /** Adds a signing key (new `kid`) used for every new token; the old ones stay in the JWKS. Returns the new kid. */
  rotateKey(): Promise<string>;
  /** Removes every key but the current one from the JWKS. Returns how many were removed. */
  dropOldKeys(): number;
  readonly currentKid: string;

  /**
   * `'503'`: every request answers 503 `text/plain`. `'refuse'` (default): the listener closes and
   * open connections are cut, so connecting fails; `setDown(false)` listens again on the same port.
   */
  setDown(down: boolean, mode?: DownMode): Promise<void>;
  /** Every matching request waits `ms` before being handled (0 = no delay). */
  setDelay(ms: number, match?: CallMatch): void;
  /**
   * The next `n` matching requests fail: with `status` (default 500, `text/plain` "Internal Server
   * Error"), or `'reset'` to cut the connection without an answer. With `afterHandling` the
   * request takes effect first (e.g. the invite is accepted) and only its answer is lost.
   */
  failNext(n: number, status?: number | 'reset', options?: FailNextOptions): void;
  /** Simulates the service's Keycloak being unreachable (see the contract: sign-in answers 401). */
  setKeycloakDown(down: boolean): void;
  /**
   * How sign-up answers for an e-mail already registered: `'reject'` (default) 400; `'sign-in'`
   * as the real service does when the password matches: 201 with tokens of the existing account.
   */
  setSignUpOfRegistered(mode: 'reject' | 'sign-in'): void;
  setAccessTokenTtl(seconds: number): void;
  /** Switches the variance mode (see AuthFakeOptions.variance) on or off. */
  setVariance(on: boolean): void;
  /** Back up, no delay or failures, no calls, no users/orgs/invites/sessions, default TTL. Keys are kept. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export interface TokenResponse {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
}
