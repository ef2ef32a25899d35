import { join } from 'node:path';
import { startNginx, startNginxStatic } from './nginx';
import { TABLE_ROUTE, benchRoutesFile, staticSubscription } from './route-table';
import { RUNTIME_ENV } from './runtime';
import { DIR, DIST } from './params';
import { freePort, httpOk, start, waitFor, type Proc } from './procs';
import { fakeUser, json, setUpBase, type BaseWorld } from './base-world';

export {
  ALL_TOPICS,
  CHAT_TOPIC_ENV,
  fakeUser,
  json,
  setUpBase,
  startWorker,
  tearDown,
  uniqueEmail,
  type BaseWorld,
} from './base-world';

/**
 * Everything the scenarios run against, started once: the base world, the static `/me`
 * responder, and for each of the two upstreams a gateway and an nginx (1 worker).
 */
export interface World extends BaseWorld {
  /** The gateway → auth fake (chat, SSE, workflows and the direct row "through the auth fake"). */
  gateway: Proc;
  gatewayUrl: string;
  /** The gateway's admin listener (/metrics). */
  gatewayAdminUrl: string;
  nginx: Proc;
  nginxUrl: string;
  /** The static responder and the gateway and nginx in front of it (the direct scenario's rows). */
  upstream: Proc;
  upstreamUrl: string;
  staticEnv: Record<string, string>;
  gatewayStatic: Proc;
  gatewayStaticUrl: string;
  gatewayStaticAdminUrl: string;
  nginxStatic: Proc;
  nginxStaticUrl: string;
  /** A user of the auth fake and its token (valid for the whole run). */
  user: { token: string; sub: string; email: string };
}

export async function setUp(w: Partial<World>): Promise<World> {
  const { env, authUrl } = await setUpBase(w);
  const authPort = Number(new URL(authUrl).port);
  ({ proc: w.gateway, url: w.gatewayUrl, adminUrl: w.gatewayAdminUrl } = await startGateway(env, 'gateway'));
  w.user = await fakeUser(w as World, 'direct');
  let port = await freePort();
  w.nginx = await startNginx(DIR, 'nginx', port, [`127.0.0.1:${authPort}`]);
  w.nginxUrl = `http://127.0.0.1:${port}`;

  await startStaticUpstream(w);
  ({
    proc: w.gatewayStatic,
    url: w.gatewayStaticUrl,
    adminUrl: w.gatewayStaticAdminUrl,
  } = await startGateway(w.staticEnv!, 'gateway-static'));
  // The table route answers through the table (200, timestamps normalised), or the run stops here.
  const sub = await json<{ started_at: string }>('GET', `${w.gatewayStaticUrl}${TABLE_ROUTE}`, undefined, w.user.token);
  if (sub.started_at.endsWith('Z')) throw new Error(`${TABLE_ROUTE} was not transformed: ${sub.started_at}`);
  port = await freePort();
  w.nginxStatic = await startNginx(DIR, 'nginx-static', port, [`127.0.0.1:${new URL(w.upstreamUrl!).port}`]);
  w.nginxStaticUrl = `http://127.0.0.1:${port}`;
  return w as World;
}

/**
 * The static responder (nginx, 1 worker), answering /me exactly as the auth fake did for `w.user`,
 * and the route table's billing path; `w.staticEnv` is the env of a gateway in front of it (its
 * table sends GET /v1/billing/subscription there).
 */
export async function startStaticUpstream(w: Partial<World>): Promise<void> {
  const me = await json<unknown>('GET', `${w.authUrl}/v1/client/me`, undefined, w.user!.token);
  const port = await freePort();
  w.upstreamUrl = `http://127.0.0.1:${port}`;
  w.upstream = await startNginxStatic(DIR, 'static-upstream', port, {
    '/v1/client/me': JSON.stringify(me),
    '/internal/billing/subscription': staticSubscription(w.user!.sub),
    '/health': '{"status":"ok"}',
  });
  const routes = { BILLING_SERVICE_URL: w.upstreamUrl, ROUTES_FILE: benchRoutesFile() };
  w.staticEnv = { ...w.env!, AUTH_SERVICE_URL: w.upstreamUrl, ...routes };
}

/** Node flags from an environment variable, space-separated. */
const nodeFlags = (name: string) => (process.env[name] ?? '').split(' ').filter(Boolean);

/**
 * Waits until `health` answers 200; behind node:cluster (`processes`), until it has answered 200
 * four times per process in a row, so that every process of the cluster is ready.
 */
async function waitForEvery(proc: Proc, what: string, health: string, processes = 1): Promise<void> {
  let streak = 0;
  await waitFor(proc, what, async () => {
    streak = (await httpOk(health).catch(() => false)) ? streak + 1 : 0;
    return streak >= processes * 4;
  });
}

/**
 * A gateway (or `processes` of them behind node:cluster) with the image's runtime settings, ready.
 * BENCH_GATEWAY_NODE_ARGS: node flags of every gateway the harness starts (e.g. `--trace-gc`).
 */
export async function startGateway(
  env: Record<string, string>,
  name: string,
  /** `dist`: the build output to start the gateway from (default: this checkout's); `env`: over the image's runtime settings. */
  opts: { processes?: number; nodeArgs?: string[]; dist?: string; env?: Record<string, string> } = {},
): Promise<{ proc: Proc; url: string; adminUrl: string }> {
  const port = await freePort();
  const adminPort = await freePort();
  const script = opts.processes
    ? [join(DIST, 'bench/cluster.js'), String(opts.processes)]
    : [join(opts.dist ?? DIST, 'src/api/server.js')];
  const proc = start(
    DIR,
    name,
    process.execPath,
    [...nodeFlags('BENCH_GATEWAY_NODE_ARGS'), ...(opts.nodeArgs ?? []), ...script],
    {
      ...env,
      ...RUNTIME_ENV,
      ...opts.env,
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitForEvery(proc, `${name} /health/ready`, `${url}/health/ready`, opts.processes);
  return { proc, url, adminUrl: `http://127.0.0.1:${adminPort}` };
}

/** The floor proxy (bench/floor.ts) with the gateway's runtime settings, in front of `env.AUTH_SERVICE_URL`, ready. */
export async function startFloor(
  env: Record<string, string>,
  /** `processes`: that many floors behind node:cluster (bench/cluster.ts), as the gateway's scale rows. */
  opts: { processes?: number } = {},
): Promise<{ proc: Proc; url: string }> {
  const port = await freePort();
  // BENCH_FLOOR_NODE_ARGS: node flags of the floor (e.g. `--cpu-prof`, to compare a profile with the gateway's).
  const nodeArgs = nodeFlags('BENCH_FLOOR_NODE_ARGS');
  const floor = join(DIST, 'bench/floor.js');
  const script = opts.processes ? [join(DIST, 'bench/cluster.js'), String(opts.processes), floor] : [floor];
  const name = opts.processes ? `floor-x${opts.processes}` : 'floor';
  const proc = start(DIR, name, process.execPath, [...nodeArgs, ...script], {
    ...env,
    ...RUNTIME_ENV,
    PORT: String(port),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForEvery(proc, 'the floor proxy', `${url}/health`, opts.processes);
  return { proc, url };
}
