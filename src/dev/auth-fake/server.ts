import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyRequest } from 'fastify';
import { pushBounded } from '../../lib/bounded-map';
import { registerAuthFakeRoutes } from './app';
import { KeyRing } from './keys';
import { AuthStore, type FakeInvite, type FakeOrg, type FakeSession, type FakeUser, type OrgRole } from './store';
import { TokenMinter, type SignTokenOptions, type TokenClaims, type TokenForgery } from './tokens';
import { varyAuthReply } from './variance';

export const DEFAULT_INTERNAL_KEY = 'gateway-secret-key-2024';
export const DEFAULT_REALM_PATH = '/realms/auth-service';
/** Calls remembered for `calls`/`callsTo` (the newest; a long-running fake must not grow forever). */
const MAX_LOGGED_CALLS = 50_000;

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

export type DownMode = 'refuse' | '503';

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

interface PendingFailure {
  remaining: number;
  status: number | 'reset';
  options: FailNextOptions;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

function matches(call: AuthFakeCall, match: CallMatch | undefined): boolean {
  if (!match) return true;
  if (match.method && match.method.toUpperCase() !== call.method) return false;
  if (match.path === undefined) return true;
  return typeof match.path === 'string' ? match.path === call.path : match.path.test(call.path);
}

/** Starts the fake auth service (with its Keycloak realm endpoints) on 127.0.0.1. */
export async function startAuthFake(options: AuthFakeOptions = {}): Promise<AuthFake> {
  const host = options.host ?? '127.0.0.1';
  const defaultTtl = options.accessTokenTtlSec ?? 300;
  const sessionTtlSec = options.sessionTtlSec ?? 1800;
  const internalKey = options.internalKey ?? DEFAULT_INTERNAL_KEY;
  const issuerPath = options.issuer ? new URL(options.issuer).pathname.replace(/\/+$/, '') : DEFAULT_REALM_PATH;

  let port = options.port ?? 0;
  let baseUrl = '';
  let issuer = options.issuer ?? '';
  let ttl = defaultTtl;
  let down: DownMode | null = null;
  let keycloakDown = false;
  let signUpOfRegistered: 'reject' | 'sign-in' = 'reject';
  let delay: { ms: number; match?: CallMatch } = { ms: 0 };
  let failures: PendingFailure[] = [];
  const calls: AuthFakeCall[] = [];
  const callOf = new WeakMap<FastifyRequest, AuthFakeCall>();
  const lostAnswers = new WeakMap<FastifyRequest, PendingFailure>();

  const keys = await KeyRing.create({ encryptionKey: options.jwksEncryptionKey ?? true });
  const store = new AuthStore(sessionTtlSec * 1000, (options.inviteTtlSec ?? 7 * 24 * 3600) * 1000);
  const tokens = new TokenMinter(
    keys,
    () => issuer,
    () => ttl,
  );

  let server!: Server;
  const app = Fastify({
    logger: options.logger ?? false,
    serverFactory: (handler) => {
      server = createServer(handler);
      return server;
    },
  });

  app.addHook('onRequest', async (request, reply) => {
    const call: AuthFakeCall = {
      method: request.method,
      path: request.url.split('?')[0]!,
      url: request.url,
      time: Date.now(),
      headers: { ...request.headers },
    };
    pushBounded(calls, call, MAX_LOGGED_CALLS);
    callOf.set(request, call);
    if (down === '503') {
      return reply.code(503).type('text/plain; charset=utf-8').send('Service Unavailable');
    }
    if (delay.ms > 0 && matches(call, delay.match)) await sleep(delay.ms);
    const failure = failures.find((f) => f.remaining > 0 && matches(call, f.options.match));
    if (failure) {
      failure.remaining -= 1;
      failures = failures.filter((f) => f.remaining > 0);
      if (failure.options.afterHandling) {
        lostAnswers.set(request, failure);
        return;
      }
      if (failure.status === 'reset') {
        reply.hijack();
        request.raw.socket.destroy();
        return reply;
      }
      const body = failure.options.body ?? STATUS_TEXT[failure.status] ?? 'Error';
      const type =
        failure.options.contentType ?? (typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json');
      return reply.code(failure.status).type(type).send(body);
    }
  });
  let variance = options.variance ?? false;
  app.addHook('onSend', async (request, reply, payload) =>
    variance ? varyAuthReply(request.url.split('?')[0]!, reply.statusCode, payload) : payload,
  );
  app.addHook('onSend', async (request, reply, payload) => {
    const lost = lostAnswers.get(request);
    if (!lost) return payload;
    if (lost.status === 'reset') {
      request.raw.socket.destroy();
      return payload;
    }
    const body = lost.options.body ?? STATUS_TEXT[lost.status] ?? 'Error';
    reply
      .code(lost.status)
      .type(lost.options.contentType ?? (typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json'));
    return typeof body === 'string' ? body : JSON.stringify(body);
  });
  app.addHook('onResponse', async (request, reply) => {
    const call = callOf.get(request);
    if (call) call.status = reply.statusCode;
  });

  registerAuthFakeRoutes(app, {
    store,
    keys,
    tokens,
    issuerPath,
    issuer: () => issuer,
    baseUrl: () => baseUrl,
    internalKey,
    accessTokenTtlSec: () => ttl,
    sessionTtlSec,
    keycloakDown: () => keycloakDown,
    signUpOfRegistered: () => signUpOfRegistered,
  });
  await app.ready();

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stopListening = async () => {
    if (!server.listening) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    // Give clients a moment to see their pooled connections end, so their next request opens a
    // new connection (and is refused) instead of failing on a half-closed socket.
    await sleep(20);
  };

  await listen();
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : port;
  baseUrl = `http://${host}:${port}`;
  issuer ||= `${baseUrl}${DEFAULT_REALM_PATH}`;

  const issueTokens = async (userId: string): Promise<TokenResponse> => {
    const user = store.users.get(userId);
    if (!user) throw new Error(`auth fake: no user ${userId}`);
    const { session, refreshToken } = store.startSession(user.sub);
    return {
      access_token: await tokens.accessTokenFor(user, session.id),
      refresh_token: refreshToken,
      token_type: 'Bearer',
      expires_in: ttl,
    };
  };

  const setDown = async (isDown: boolean, mode: DownMode = 'refuse'): Promise<void> => {
    down = isDown ? mode : null;
    if (down === 'refuse') await stopListening();
    else if (!server.listening) await listen();
  };

  return {
    url: baseUrl,
    port,
    issuer,
    jwksUrl: `${baseUrl}${issuerPath}/protocol/openid-connect/certs`,
    openidConfigurationUrl: `${baseUrl}${issuerPath}/.well-known/openid-configuration`,
    internalKey,
    calls,
    callsTo: (match) => calls.filter((c) => matches(c, match)),
    clearCalls: () => {
      calls.length = 0;
    },
    users: store.users,
    orgs: store.orgs,
    invites: store.invites,
    sessionsOf: (userId) => store.sessionsOf(userId),
    createUser: (input) => store.createUser({ full_name: '', ...input }),
    createOrg: (ownerId, name, members = {}) => {
      const org = store.createOrg(ownerId, name);
      for (const [userId, role] of Object.entries(members)) store.addMember(org.org_id, userId, role);
      return org;
    },
    issueTokens,
    signToken: (claims, signOptions) => tokens.sign(claims, signOptions),
    forge: tokens.forgery(),
    rotateKey: async () => (await keys.rotate()).kid,
    dropOldKeys: () => keys.dropOld(),
    get currentKid() {
      return keys.current.kid;
    },
    setDown,
    setDelay: (ms, match) => {
      delay = { ms, match };
    },
    failNext: (n, status = 500, failOptions = {}) => {
      if (n > 0) failures.push({ remaining: n, status, options: failOptions });
    },
    setSignUpOfRegistered: (mode) => {
      signUpOfRegistered = mode;
    },
    setKeycloakDown: (isDown) => {
      keycloakDown = isDown;
    },
    setAccessTokenTtl: (seconds) => {
      ttl = seconds;
    },
    setVariance: (on) => {
      variance = on;
    },
    reset: async () => {
      await setDown(false);
      variance = options.variance ?? false;
      delay = { ms: 0 };
      failures = [];
      keycloakDown = false;
      signUpOfRegistered = 'reject';
      ttl = defaultTtl;
      calls.length = 0;
      store.clear();
    },
    close: async () => {
      down = null;
      await stopListening();
      await app.close();
    },
  };
}
