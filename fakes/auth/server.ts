import { createServer, type Server } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import { SwitchableListener, type DownMode } from '../shared/listener';
import type { AuthFake, AuthFakeCall, AuthFakeOptions, CallMatch, FailNextOptions, TokenResponse } from './api';
import { registerAuthFakeRoutes } from './app';
import { AuthFaults, matches } from './faults';
import { KeyRing } from './keys';
import type { FakeInvite, FakeOrg, FakeSession, FakeUser, OrgRole } from './model';
import { AuthStore } from './store';
import { TokenMinter, type SignTokenOptions, type TokenClaims, type TokenForgery } from './tokens';

export const DEFAULT_INTERNAL_KEY = 'gateway-secret-key-2024';
export const DEFAULT_REALM_PATH = '/realms/auth-service';

/** Starts the fake auth service (with its Keycloak realm endpoints) on 127.0.0.1. */
export async function startAuthFake(options: AuthFakeOptions = {}): Promise<AuthFake> {
  const keys = await KeyRing.create({ encryptionKey: options.jwksEncryptionKey ?? true });
  const fake = new RunningAuthFake(options, keys);
  await fake.listen(options.host ?? '127.0.0.1', options.port ?? 0);
  return fake;
}

class RunningAuthFake implements AuthFake {
  readonly internalKey: string;
  readonly forge: TokenForgery;
  private readonly issuerPath: string;
  private readonly defaultTtl: number;
  private readonly store: AuthStore;
  private readonly tokens: TokenMinter;
  private readonly faults: AuthFaults;
  private readonly app: FastifyInstance;
  private server!: Server;
  private listener?: SwitchableListener;
  private issuerUrl: string;
  private ttl: number;
  private keycloakDown = false;
  private signUpOfRegistered: 'reject' | 'sign-in' = 'reject';

  constructor(
    private readonly options: AuthFakeOptions,
    private readonly keys: KeyRing,
  ) {
    this.internalKey = options.internalKey ?? DEFAULT_INTERNAL_KEY;
    this.issuerPath = options.issuer ? new URL(options.issuer).pathname.replace(/\/+$/, '') : DEFAULT_REALM_PATH;
    this.issuerUrl = options.issuer ?? '';
    this.defaultTtl = this.ttl = options.accessTokenTtlSec ?? 300;
    const sessionTtlSec = options.sessionTtlSec ?? 1800;
    this.store = new AuthStore(sessionTtlSec * 1000, (options.inviteTtlSec ?? 7 * 24 * 3600) * 1000);
    this.tokens = new TokenMinter(
      keys,
      () => this.issuerUrl,
      () => this.ttl,
    );
    this.forge = this.tokens.forgery();
    this.faults = new AuthFaults(() => this.listener?.down ?? null, options.variance ?? false);
    this.app = Fastify({
      logger: options.logger ?? false,
      serverFactory: (handler) => (this.server = createServer(handler)),
    });
    this.faults.install(this.app);
    registerAuthFakeRoutes(this.app, {
      store: this.store,
      keys,
      tokens: this.tokens,
      issuerPath: this.issuerPath,
      issuer: () => this.issuerUrl,
      baseUrl: () => this.url,
      internalKey: this.internalKey,
      accessTokenTtlSec: () => this.ttl,
      sessionTtlSec,
      keycloakDown: () => this.keycloakDown,
      signUpOfRegistered: () => this.signUpOfRegistered,
    });
  }

  async listen(host: string, port: number): Promise<void> {
    await this.app.ready();
    this.listener = await SwitchableListener.start(this.server, host, port);
    this.issuerUrl ||= `${this.url}${DEFAULT_REALM_PATH}`;
  }

  get url(): string {
    return this.listener?.url ?? '';
  }
  get port(): number {
    return this.listener?.port ?? 0;
  }
  get issuer(): string {
    return this.issuerUrl;
  }
  get jwksUrl(): string {
    return `${this.url}${this.issuerPath}/protocol/openid-connect/certs`;
  }
  get openidConfigurationUrl(): string {
    return `${this.url}${this.issuerPath}/.well-known/openid-configuration`;
  }
  get calls(): AuthFakeCall[] {
    return this.faults.calls;
  }
  get users(): ReadonlyMap<string, Readonly<FakeUser>> {
    return this.store.users;
  }
  get orgs(): ReadonlyMap<string, Readonly<FakeOrg>> {
    return this.store.orgs;
  }
  get invites(): ReadonlyMap<string, Readonly<FakeInvite>> {
    return this.store.invites;
  }
  get currentKid(): string {
    return this.keys.current.kid;
  }

  callsTo(match: CallMatch): AuthFakeCall[] {
    return this.calls.filter((c) => matches(c, match));
  }
  clearCalls(): void {
    this.calls.length = 0;
  }
  sessionsOf(userId: string): readonly Readonly<FakeSession>[] {
    return this.store.sessionsOf(userId);
  }

  createUser(input: Parameters<AuthFake['createUser']>[0]): Readonly<FakeUser> {
    return this.store.createUser({ full_name: '', ...input });
  }
  createOrg(ownerId: string, name: string, members: Record<string, OrgRole> = {}): Readonly<FakeOrg> {
    const org = this.store.createOrg(ownerId, name);
    for (const [userId, role] of Object.entries(members)) this.store.addMember(org.org_id, userId, role);
    return org;
  }
  async issueTokens(userId: string): Promise<TokenResponse> {
    const user = this.store.users.get(userId);
    if (!user) throw new Error(`auth fake: no user ${userId}`);
    const { session, refreshToken } = this.store.startSession(user.sub);
    return {
      access_token: await this.tokens.accessTokenFor(user, session.id),
      refresh_token: refreshToken,
      token_type: 'Bearer',
      expires_in: this.ttl,
    };
  }

  signToken(claims?: TokenClaims, options?: SignTokenOptions): Promise<string> {
    return this.tokens.sign(claims, options);
  }
  async rotateKey(): Promise<string> {
    return (await this.keys.rotate()).kid;
  }
  dropOldKeys(): number {
    return this.keys.dropOld();
  }

  setDown(down: boolean, mode?: DownMode): Promise<void> {
    return this.listener!.setDown(down, mode);
  }
  setDelay(ms: number, match?: CallMatch): void {
    this.faults.delay = { ms, match };
  }
  failNext(n: number, status: number | 'reset' = 500, options: FailNextOptions = {}): void {
    this.faults.failNext(n, status, options);
  }
  setSignUpOfRegistered(mode: 'reject' | 'sign-in'): void {
    this.signUpOfRegistered = mode;
  }
  setKeycloakDown(down: boolean): void {
    this.keycloakDown = down;
  }
  setAccessTokenTtl(seconds: number): void {
    this.ttl = seconds;
  }
  setVariance(on: boolean): void {
    this.faults.variance = on;
  }

  async reset(): Promise<void> {
    await this.setDown(false);
    this.faults.reset(this.options.variance ?? false);
    this.keycloakDown = false;
    this.signUpOfRegistered = 'reject';
    this.ttl = this.defaultTtl;
    this.store.clear();
  }
  async close(): Promise<void> {
    await this.listener?.close();
    await this.app.close();
  }
}
