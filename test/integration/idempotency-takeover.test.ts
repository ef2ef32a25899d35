import type { ChildProcess } from 'node:child_process';
import { createLogger } from '../../src/logger';
import { createWorker, type GatewayWorker } from '../../src/workers/worker';
import { call } from '../support/auth-gateway';
import { startAuthFake, type AuthFake } from '../support/auth-fake';
import { spawnGateway } from '../support/gateway';
import { testConfig, uniqueSuffix, waitFor } from '../support/stack';

jest.setTimeout(180_000);

// Below the auth client's 8 s timeout: one slow call, not a retried one.
const SIGN_UP_DELAY_MS = 5_000;
/** The gateway's default: how long a replica holds its own instance lock before it takes a dead one's claims. */
const TAKEOVER_GRACE_MS = 5_000;

/**
 * Two gateway processes on one PostgreSQL (issue 18): an Idempotency-Key claimed by a replica
 * stays its own while that replica lives, and is taken over by a retry on the other replica as
 * soon as it is SIGKILLed (its instance lock goes with its database session).
 */
describe('an Idempotency-Key held by a replica that dies', () => {
  const taskQueue = `test-idem-takeover-${uniqueSuffix()}`;
  let auth: AuthFake;
  let worker: GatewayWorker;
  let running: Promise<void>;
  const gateways: { child: ChildProcess; url: string; startedAt: number }[] = [];

  const start = async () => {
    const gw = await spawnGateway({
      TEMPORAL_TASK_QUEUE: taskQueue,
      AUTH_SERVICE_URL: auth.url,
      AUTH_JWKS_URL: auth.jwksUrl,
      AUTH_ISSUER: auth.issuer,
      INTERNAL_SERVICE_KEY: 'test-internal-key',
      COOKIE_SECURE: 'false',
      WORKFLOW_SYNC_TIMEOUT_MS: '30000',
      OUTBOX_RELAY_ENABLED: 'false',
    });
    gateways.push({ ...gw, startedAt: Date.now() });
    return gateways[gateways.length - 1]!;
  };

  const signUp = (url: string, key: string, email: string) =>
    call(url, 'POST', '/v1/client/sign-up', {
      headers: { 'idempotency-key': key },
      body: { email, password: 'takeover-pass-1' },
    });

  /** The replica has held its instance lock long enough to take claims over. */
  const established = async (gw: { startedAt: number }) =>
    new Promise((r) => setTimeout(r, Math.max(0, gw.startedAt + TAKEOVER_GRACE_MS + 1_000 - Date.now())));

  beforeAll(async () => {
    auth = await startAuthFake({ port: 0, internalKey: 'test-internal-key' });
    const config = testConfig({
      TEMPORAL_TASK_QUEUE: taskQueue,
      AUTH_SERVICE_URL: auth.url,
      INTERNAL_SERVICE_KEY: 'test-internal-key',
    });
    worker = await createWorker(config, createLogger('silent'), { taskQueue });
    running = worker.worker.run();
  });

  afterAll(async () => {
    for (const gw of gateways) if (gw.child.exitCode === null) gw.child.kill('SIGKILL');
    worker.worker.shutdown();
    await running;
    await worker.close();
    await auth.close();
  });

  it('while the first replica lives, a retry on the other gets 409 + Retry-After: 1, then the first answer', async () => {
    const [a, b] = [await start(), await start()];
    await established(b);
    auth.setDelay(SIGN_UP_DELAY_MS, { path: '/v1/client/sign-up' });
    const email = `takeover-live-${uniqueSuffix()}@example.com`;
    const key = `live-${uniqueSuffix()}`;
    const first = signUp(a.url, key, email);
    await waitFor('the sign-up at the auth service', async () => auth.callsTo({ path: '/v1/client/sign-up' }).length);
    const retry = await signUp(b.url, key, email);
    expect(retry.status).toBe(409);
    expect(retry.body).toMatchObject({ code: 'conflict', request_id: expect.any(String) });
    expect(retry.headers['retry-after']).toBe('1');
    expect((await first).status).toBe(201);
    const replay = await signUp(b.url, key, email);
    expect(replay.status).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    await auth.reset();
  });

  it('after a SIGKILL of the replica holding the key, a retry on the other completes the sign-up once, within the sign-up itself', async () => {
    const [a, b] = [gateways[0]!, gateways[1]!];
    auth.setDelay(SIGN_UP_DELAY_MS, { path: '/v1/client/sign-up' });
    const email = `takeover-dead-${uniqueSuffix()}@example.com`;
    const key = `dead-${uniqueSuffix()}`;
    const first = signUp(a.url, key, email).then(
      (res) => res.status,
      () => 0,
    );
    await waitFor('the sign-up at the auth service', async () => auth.callsTo({ path: '/v1/client/sign-up' }).length);
    const killedAt = Date.now();
    const exited = new Promise((r) => a.child.once('exit', r));
    a.child.kill('SIGKILL');
    await exited;
    expect(await first).toBe(0);

    // PostgreSQL ends the killed replica's session (and its lock) when it reads the closed socket:
    // on a loaded machine that can trail the kill, and a client then follows the 409's Retry-After.
    let retry = await signUp(b.url, key, email);
    for (let i = 0; i < 3 && retry.status === 409; i += 1) {
      await new Promise((r) => setTimeout(r, Number(retry.headers['retry-after']) * 1_000));
      retry = await signUp(b.url, key, email);
    }
    expect(retry.status).toBe(201);
    expect(retry.body.user).toMatchObject({ email });
    // Taken over at once: the retry waits only for the sign-up that was already running.
    expect(Date.now() - killedAt).toBeLessThan(SIGN_UP_DELAY_MS + 5_000);
    expect([...auth.users.values()].filter((u) => u.email === email)).toHaveLength(1);
    expect(auth.callsTo({ path: '/v1/client/sign-up' })).toHaveLength(1);
    const replay = await signUp(b.url, key, email);
    expect(replay.status).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
  });
});
