/**
 * The auth-service fake plus a gateway that trusts it; with a worker where a test needs workflows.
 *
 *   const s = await startAuthStack({ RATE_LIMIT_AUTH_PER_IP: '1000' });   // s.fake, s.gw
 *   const s = await startAuthWorkerStack({ TEMPORAL_TASK_QUEUE: q });     // + s.worker on queue q
 *   const second = await s.replica();                  // another gateway on the same fake
 *   const alice = await s.user('alice');                // created at the fake: { sub, email, password, token, refresh }
 *   const res = await call(s.gw.url, 'GET', '/v1/client/me', { token: alice.token });
 *   afterAll(() => s.close());
 * The fake's own tests: const fx = useAuthFake();  // hooks for the file; fx.fake, fx.call(…), fx.signUp()
 */
import type { DestinationStream } from 'pino';
import { Agent } from 'undici';
import { startAuthFake, type AuthFake } from './auth-fake';
import { call, startGateway, type CallOptions, type RunningGateway } from './gateway';
import { startWorker, testConfig, uniqueSuffix, type RunningWorker } from './stack';

export { call, type CallOptions, type Res } from './gateway';

export interface TestUser {
  sub: string;
  email: string;
  password: string;
  token: string;
  refresh: string;
}

export interface AuthStack {
  fake: AuthFake;
  gw: RunningGateway;
  /** A new user at the fake (no gateway call) with fresh tokens. */
  user(label?: string, fullName?: string): Promise<TestUser>;
  /** Another gateway instance against the same fake (close it yourself). */
  replica(overrides?: Record<string, string>): Promise<RunningGateway>;
  close(): Promise<void>;
}

/** The auth-service fake plus a gateway that verifies tokens against the fake's JWKS. */
export async function startAuthStack(
  overrides: Record<string, string> = {},
  fake?: AuthFake,
  logDestination?: DestinationStream,
): Promise<AuthStack> {
  const f = fake ?? (await startAuthFake({ port: 0, internalKey: 'test-internal-key' }));
  const gw = await startGateway(testConfig(gatewayOverrides(f, overrides)), undefined, logDestination);
  return {
    fake: f,
    gw,
    user: (label, fullName) => newUser(f, label, fullName),
    replica: (more = {}) => startGateway(testConfig(gatewayOverrides(f, more))),
    async close() {
      await gw.close();
      if (!fake) await f.close();
    },
  };
}

/** The settings that point a gateway at the fake (its URL, JWKS, issuer and internal key). */
export function gatewayOverrides(fake: AuthFake, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    AUTH_SERVICE_URL: fake.url,
    AUTH_JWKS_URL: fake.jwksUrl,
    AUTH_ISSUER: fake.issuer,
    INTERNAL_SERVICE_KEY: 'test-internal-key',
    COOKIE_SECURE: 'false',
    ...overrides,
  };
}

async function newUser(fake: AuthFake, label = 'user', fullName?: string): Promise<TestUser> {
  const email = `${label}-${uniqueSuffix()}@example.com`;
  const password = `${label}-pass-123`;
  const { sub } = fake.createUser({ email, password, ...(fullName === undefined ? {} : { full_name: fullName }) });
  const tokens = await fake.issueTokens(sub);
  return { sub, email, password, token: tokens.access_token, refresh: tokens.refresh_token };
}

export interface AuthWorkerStack extends AuthStack {
  worker: RunningWorker;
}

/**
 * startAuthStack plus an in-process worker with the gateway's settings (TEMPORAL_TASK_QUEUE among
 * them) and `workerOverrides`, calling the same fake; close() stops the worker first.
 */
export async function startAuthWorkerStack(
  overrides: Record<string, string>,
  options: {
    fake?: AuthFake;
    log?: DestinationStream;
    workerOverrides?: Record<string, string>;
    workerLog?: DestinationStream;
  } = {},
): Promise<AuthWorkerStack> {
  const s = await startAuthStack(overrides, options.fake, options.log);
  const config = testConfig(gatewayOverrides(s.fake, { ...overrides, ...options.workerOverrides }));
  const worker = await startWorker(config, options.workerLog).catch(async (err: unknown) => {
    await s.close();
    throw err;
  });
  return {
    ...s,
    worker,
    async close() {
      await worker.stop();
      await s.close();
    },
  };
}

/**
 * For the auth fake's own tests: a fake for the file (reset after each test), `call` to it (or to
 * `base`) through a dispatcher of its own, so connections cut by setDown('refuse') never linger in
 * a shared pool, and `signUp` through its API. `fake` is there once beforeAll has run.
 */
export function useAuthFake() {
  const dispatcher = new Agent({ keepAliveTimeout: 1000 });
  let fake: AuthFake | undefined;
  beforeAll(async () => {
    fake = await startAuthFake();
  });
  afterEach(() => fake?.reset());
  afterAll(async () => {
    await fake?.close();
    await dispatcher.close();
  });
  const fx = {
    get fake(): AuthFake {
      if (!fake) throw new Error('useAuthFake: the fake starts in beforeAll');
      return fake;
    },
    call: (method: string, path: string, { base, ...opts }: CallOptions & { base?: string } = {}) =>
      call(base ?? fx.fake.url, method, path, { ...opts, dispatcher }),
    signUp: async (email = `u${Math.random().toString(36).slice(2, 10)}@example.test`, password = 'password-1') => {
      const res = await fx.call('POST', '/v1/client/sign-up', { body: { email, password, full_name: 'Ada Lovelace' } });
      expect(res.status).toBe(201);
      return { email, password, token: res.body.access_token as string, refresh: res.body.refresh_token as string };
    },
  };
  return fx;
}
