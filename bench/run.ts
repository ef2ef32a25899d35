/**
 * The benchmark harness (`npm run bench`, `npm run bench -- --quick`; see README, Performance).
 * Starts on 127.0.0.1 everything it measures — auth fake, chat fake, worker, gateway(s), nginx, the
 * floor proxy (bench/floor.ts) and the sink relay (bench/sink-relay.ts) — against the local stack
 * (its own databases, Kafka topics, consumer groups and task queue, so the stack's other users are
 * not disturbed), runs every scenario several times, interleaving the variants that are compared,
 * prints medians and same-run ratios, and stops everything it started.
 *
 *   node dist/bench/run.js [--quick] [--only=direct,light,scale,profile,chat,workflow,sse] [--worker-profile]
 *
 * `--worker-profile` runs the worker (the publishing outbox relay) under `node --cpu-prof`; the
 * profile is written to `worker-profile/` in the results directory when the worker stops.
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client as PgClient } from 'pg';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { request as undiciRequest, Agent } from 'undici';
import { Client as TemporalClient, Connection as TemporalConnection } from '@temporalio/client';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { ChatRequestReply } from '../src/chat/request-reply';
import { AesGcmPayloadCodec } from '../src/temporal/codec';
import { closedLoop, httpLoad, type LoopResult, type OpenLoopResult } from './lib/load';
import { Markdown, type Column } from './lib/markdown';
import { Pacer, type PacedResult } from './lib/pacer';
import { startNginx, nginxVersion } from './lib/nginx';
import {
  GroupMeter,
  childrenOf,
  freePort,
  httpOk,
  machineCpu,
  start,
  stop,
  stopAll,
  tail,
  waitFor,
  type Proc,
} from './lib/procs';
import { summariseProfile, type FrameShare, type ProfileSummary } from './lib/profile';
import {
  addedFigure,
  cpuColumns,
  cpuOf,
  cpuPerRequest,
  extraFigure,
  failedSum,
  figure,
  latencyColumns,
  med,
  medFmt,
  peakRss,
  pick as pickFrom,
  roundRatio,
  withRuns,
  type Measurement,
  type Runs,
} from './lib/results';
import {
  interleavedRounds,
  type LoadPoint,
  type Plan,
  type RunLabel,
  type RunResult,
  type Variant,
} from './lib/rounds';
import { Samples, fmt, summarise, type LatencySummary } from './lib/stats';

// ---------------------------------------------------------------------------------------------
// Parameters

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const WORKER_PROFILE = argv.includes('--worker-profile');
const only = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const SCENARIOS = new Set((only ?? 'direct,light,scale,profile,chat,workflow,sse').split(','));

/** The full run's parameters; `--quick` shortens runs and rounds (below). */
const FULL = {
  rounds: 3,
  warmSec: 2,
  directSec: 8,
  directConc: 50,
  lightSec: 5,
  lightRate: 300,
  lightConc: 10,
  scale: [2, 3],
  profileSec: 8,
  chatSec: 6,
  chatConc: [1, 50, 200],
  chatRates: [100, 300, 600],
  chatRateConc: 50,
  chatRateSec: 5,
  wfLatSec: 5,
  wfSec: 8,
  wfConc: 20,
  sseSec: 5,
  sseConc: [1, 20],
};
const P: typeof FULL = QUICK
  ? {
      ...FULL,
      rounds: 1,
      warmSec: 1,
      directSec: 3,
      lightSec: 3,
      scale: [2],
      profileSec: 4,
      chatSec: 3,
      chatRateSec: 3,
      wfLatSec: 3,
      wfSec: 3,
      sseSec: 3,
    }
  : FULL;
/** Hard stop for the whole run: everything started is stopped even if a scenario hangs. */
const WATCHDOG_MS = QUICK ? 6 * 60_000 : 18 * 60_000;

const ROOT = resolve(__dirname, '..', '..');
const DIST = join(ROOT, 'dist');
const RUN_ID = `bench-${Date.now().toString(36)}`;
const DIR = mkdtempSync(join(tmpdir(), 'durable-gateway-bench-'));
const silent = createLogger('silent');

function need(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through bench/run.sh (it loads .stack/stack.env)`);
  return value;
}

function say(msg: string) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

// ---------------------------------------------------------------------------------------------
// Results

const results: Measurement[] = [];
let profileSummary: ProfileSummary | undefined;
let busyBefore = NaN;

// ---------------------------------------------------------------------------------------------
// Environment shared by every process of the run

const TOPIC = (name: string) => `${RUN_ID}.${name}`;
const CHAT_TOPIC_ENV: Record<string, string> = {
  CHAT_SERVICE_RESPONSES_TOPIC: TOPIC('chat-service-responses'),
  CHAT_SERVICE_EVENTS_TOPIC: TOPIC('chat-service-events'),
  CHAT_UI_CONVERSATIONS_TOPIC: TOPIC('chat-ui-conversations'),
  CHAT_UI_MESSAGES_TOPIC: TOPIC('chat-ui-messages'),
  CHAT_UI_AI_CONVERSATION_TOPIC: TOPIC('chat-ui-ai-conversation'),
  CHAT_UI_GEN_TITLE_TOPIC: TOPIC('chat-ui-gen-title'),
  CHAT_UI_UPLOAD_CONVERSATIONS_TOPIC: TOPIC('chat-ui-upload-conversations'),
  CHAT_UI_PROMPTS_TOPIC: TOPIC('chat-ui-prompts'),
  CHAT_UI_DOCUMENTS_TOPIC: TOPIC('chat-ui-documents'),
  CHAT_UI_SETTINGS_TOPIC: TOPIC('chat-ui-settings'),
};
const EVENT_TOPIC_ENV: Record<string, string> = {
  KAFKA_AUTH_EVENTS_TOPIC: TOPIC('auth-events'),
  KAFKA_USER_EVENTS_TOPIC: TOPIC('user-events'),
  KAFKA_ORGANIZATION_EVENTS_TOPIC: TOPIC('organization-events'),
};

interface World {
  env: Record<string, string>;
  dbName: string;
  adminDbUrl: string;
  kafkaAdmin: Admin;
  authFake: Proc;
  authUrl: string;
  chatFake: Proc;
  worker: Proc;
  gateway: Proc;
  gatewayUrl: string;
  gatewayAdminUrl: string;
  nginx: Proc;
  nginxUrl: string;
  temporal: TemporalClient;
  temporalConnection: TemporalConnection;
  stackPids: () => StackPids;
}

interface StackPids {
  postgres: number[];
  kafka: number[];
  temporal: number[];
}

/** The shared stack's processes (read-only: only /proc is read). */
function stackPids(): StackPids {
  const stackDir = process.env.GATEWAY_STACK_DIR ?? join(ROOT, '.stack');
  const read = (f: string) => {
    try {
      return Number(readFileSync(join(stackDir, f), 'utf8').trim()) || 0;
    } catch {
      return 0;
    }
  };
  const pids: StackPids = {
    postgres: [],
    kafka: [read('kafka/pid')].filter(Boolean),
    temporal: [read('temporal/pid')].filter(Boolean),
  };
  // PostgreSQL: the postmaster listening on the stack's port and its backends.
  try {
    const port = new URL(need('DATABASE_URL')).port;
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
    const m = /pid=(\d+)/.exec(out);
    if (m) pids.postgres.push(Number(m[1]), ...childrenOf(Number(m[1])));
  } catch {
    /* not visible */
  }
  return pids;
}

async function setUp(): Promise<World> {
  const stackDbUrl = need('DATABASE_URL');
  const brokers = need('KAFKA_BOOTSTRAP_SERVERS');
  const temporalAddress = need('TEMPORAL_ADDRESS');

  // Own database on the stack's PostgreSQL server: outbox rows and relay locks stay out of the
  // database the tests use.
  const dbName = RUN_ID.replace(/-/g, '_');
  const dbUrl = await createDatabase(stackDbUrl, dbName);

  const authPort = await freePort();
  const authUrl = `http://127.0.0.1:${authPort}`;
  const internalKey = randomBytes(24).toString('hex');
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    DATABASE_URL: dbUrl.toString(),
    KAFKA_BOOTSTRAP_SERVERS: brokers,
    CHAT_SERVICE_KAFKA_BOOTSTRAP_SERVERS: process.env.CHAT_SERVICE_KAFKA_BOOTSTRAP_SERVERS || brokers,
    KAFKA_CLIENT_ID: RUN_ID,
    ...CHAT_TOPIC_ENV,
    ...EVENT_TOPIC_ENV,
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_NAMESPACE: process.env.TEMPORAL_NAMESPACE || 'default',
    TEMPORAL_TASK_QUEUE: RUN_ID,
    TEMPORAL_CODEC_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    INTERNAL_SERVICE_KEY: internalKey,
    AUTH_SERVICE_URL: authUrl,
    AUTH_ISSUER: `${authUrl}/realms/auth-service`,
    AUTH_JWKS_URL: `${authUrl}/realms/auth-service/protocol/openid-connect/certs`,
    RATE_LIMIT_AUTH_PER_IP: '1000000',
    RATE_LIMIT_AUTH_PER_ACCOUNT: '1000000',
    COOKIE_SECURE: 'false',
    INVITE_TTL: '60s',
    // auth fake
    AUTH_FAKE_PORT: String(authPort),
    AUTH_FAKE_INTERNAL_KEY: internalKey,
    AUTH_FAKE_ACCESS_TOKEN_TTL_SEC: '7200',
    // chat fake: a consumer group of its own (the tests' fake uses the default one)
    CHAT_FAKE_GROUP_ID: `${RUN_ID}-chat-fake`,
  };

  await migrateDatabase(env);

  const kafka = new Kafka({ clientId: `${RUN_ID}-admin`, brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const kafkaAdmin = kafka.admin();
  await kafkaAdmin.connect();
  await kafkaAdmin.createTopics({
    waitForLeaders: true,
    topics: [...Object.values(CHAT_TOPIC_ENV), ...Object.values(EVENT_TOPIC_ENV)].map((topic) => ({ topic })),
  });

  const authFake = start(DIR, 'auth-fake', process.execPath, [join(DIST, 'src/dev/auth-fake/main.js')], env);
  await waitFor(authFake, 'the auth fake', () => httpOk(`${authUrl}/health`));

  const chatFake = start(DIR, 'chat-fake', process.execPath, [join(DIST, 'src/dev/chat-fake/main.js')], {
    ...env,
    LOG_LEVEL: 'info',
  });
  await waitFor(chatFake, 'the chat fake', async () => tail(chatFake, 50).includes('chat-service fake listening'));

  const temporalConnection = await TemporalConnection.connect({ address: temporalAddress });
  const temporal = new TemporalClient({
    connection: temporalConnection,
    namespace: env.TEMPORAL_NAMESPACE,
    dataConverter: { payloadCodecs: [AesGcmPayloadCodec.fromConfig(loadConfig(env).TEMPORAL_CODEC_KEYS)] },
  });
  const workerProfile = WORKER_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${join(DIR, 'worker-profile')}`] : [];
  const worker = start(DIR, 'worker', process.execPath, [...workerProfile, join(DIST, 'src/workers/main.js')], {
    ...env,
    ...RUNTIME_ENV,
  });
  await waitFor(worker, 'the worker to poll its task queue', async () => {
    const res = await temporal.workflowService.describeTaskQueue({
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue: { name: RUN_ID },
      taskQueueType: 1, // workflow
    });
    return (res.pollers?.length ?? 0) > 0;
  });

  const { proc: gateway, url: gatewayUrl, adminUrl: gatewayAdminUrl } = await startGateway(env, 'gateway');

  const nginxPort = await freePort();
  const nginx = await startNginx(DIR, 'nginx', nginxPort, [`127.0.0.1:${authPort}`]);

  return {
    env,
    dbName,
    adminDbUrl: stackDbUrl,
    kafkaAdmin,
    authFake,
    authUrl,
    chatFake,
    worker,
    gateway,
    gatewayUrl,
    gatewayAdminUrl,
    nginx,
    nginxUrl: `http://127.0.0.1:${nginxPort}`,
    temporal,
    temporalConnection,
    stackPids,
  };
}

/**
 * The gateway and the worker run with the memory settings of the container image, read from the
 * Dockerfile's `ENV NODE_OPTIONS=… MALLOC_ARENA_MAX=… MALLOC_MMAP_THRESHOLD_=…` line, so RSS here is
 * what production sees.
 */
const RUNTIME_ENV: Record<string, string> = (() => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const m = /^ENV NODE_OPTIONS="([^"]+)" MALLOC_ARENA_MAX=(\d+) MALLOC_MMAP_THRESHOLD_=(\d+)\s*$/m.exec(dockerfile);
  if (!m) throw new Error('Dockerfile: no `ENV NODE_OPTIONS="…" MALLOC_ARENA_MAX=n MALLOC_MMAP_THRESHOLD_=n` line');
  return { NODE_OPTIONS: m[1]!, MALLOC_ARENA_MAX: m[2]!, MALLOC_MMAP_THRESHOLD_: m[3]! };
})();

async function startGateway(
  env: Record<string, string>,
  name: string,
  opts: { processes?: number; nodeArgs?: string[] } = {},
): Promise<{ proc: Proc; url: string; port: number; adminUrl: string }> {
  const port = await freePort();
  const adminPort = await freePort();
  const script = opts.processes
    ? [join(DIST, 'bench/cluster.js'), String(opts.processes)]
    : [join(DIST, 'src/api/server.js')];
  const proc = start(DIR, name, process.execPath, [...(opts.nodeArgs ?? []), ...script], {
    ...env,
    ...RUNTIME_ENV,
    PORT: String(port),
    ADMIN_PORT: String(adminPort),
  });
  const url = `http://127.0.0.1:${port}`;
  // Every process of a cluster must be ready: ask until a run of answers in a row is 200.
  let streak = 0;
  const want = (opts.processes ?? 1) * 4;
  await waitFor(proc, `${name} /health/ready`, async () => {
    streak = (await httpOk(`${url}/health/ready`).catch(() => false)) ? streak + 1 : 0;
    return streak >= want;
  });
  return { proc, url, port, adminUrl: `http://127.0.0.1:${adminPort}` };
}

async function tearDown(w: Partial<World>) {
  say('cleaning up');
  await pacerProcess?.close().catch(() => undefined);
  // Workflows still open on our task queue (invites wait for their TTL) are terminated while the worker runs.
  if (w.temporal) {
    try {
      let n = 0;
      const open = w.temporal.workflow.list({ query: `TaskQueue="${RUN_ID}" AND ExecutionStatus="Running"` });
      for await (const wf of open) {
        await w.temporal.workflow
          .getHandle(wf.workflowId, wf.runId)
          .terminate('benchmark finished')
          .catch(() => undefined);
        n += 1;
      }
      if (n) say(`terminated ${n} open benchmark workflow(s)`);
    } catch (err) {
      say(`could not list benchmark workflows: ${String(err)}`);
    }
  }
  await stopAll();
  await w.temporalConnection?.close().catch(() => undefined);
  if (w.kafkaAdmin) {
    await w.kafkaAdmin
      .deleteTopics({ topics: [...Object.values(CHAT_TOPIC_ENV), ...Object.values(EVENT_TOPIC_ENV)] })
      .catch((err: unknown) => say(`topics not deleted: ${String(err)}`));
    // Consumer groups of this run: the chat fake's, the SSE probe's and every gateway's reply consumer.
    const groups = await w.kafkaAdmin.listGroups().catch(() => ({ groups: [] }));
    const ours = groups.groups.map((g) => g.groupId).filter((id) => id.startsWith(`${RUN_ID}-`));
    if (ours.length) await w.kafkaAdmin.deleteGroups(ours).catch(() => undefined);
    await w.kafkaAdmin.disconnect();
  }
  if (w.dbName && w.adminDbUrl) await dropDatabase(w.adminDbUrl, w.dbName);
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** Creates an empty database on the stack's PostgreSQL server; returns its URL. */
async function createDatabase(adminUrl: string, name: string): Promise<URL> {
  const pg = new PgClient({ connectionString: adminUrl });
  await pg.connect();
  try {
    await pg.query(`create database ${name}`);
  } finally {
    await pg.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url;
}

async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const pg = new PgClient({ connectionString: adminUrl });
  try {
    await pg.connect();
    await pg.query(`drop database if exists ${name} with (force)`);
  } catch (err) {
    say(`database ${name} not dropped: ${String(err)}`);
  } finally {
    await pg.end().catch(() => undefined);
  }
}

/** Runs the gateway's migrations on `env.DATABASE_URL`. */
async function migrateDatabase(env: Record<string, string>): Promise<void> {
  const name = new URL(env.DATABASE_URL!).pathname.slice(1);
  say(`database ${name}: migrating`);
  const migrate = start(DIR, `migrate-${name}`, process.execPath, [join(DIST, 'src/db/migrate.js')], env);
  if ((await migrate.exited) !== 0) throw new Error(`migration failed:\n${tail(migrate)}`);
}

async function json<T>(method: string, url: string, body?: unknown, token?: string): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await undiciRequest(url, {
    method: method as 'GET',
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

let emailCounter = 0;
const uniqueEmail = (kind: string) => `${RUN_ID}-${kind}-${(emailCounter += 1)}@example.com`;

/** A user of the auth fake (signed up straight at the fake, not through the workflow). */
async function fakeUser(w: World, kind: string): Promise<{ token: string; sub: string; email: string }> {
  const email = uniqueEmail(kind);
  const tokens = await json<{ access_token: string }>('POST', `${w.authUrl}/v1/client/sign-up`, {
    email,
    password: 'Bench-password-1',
    full_name: `Bench ${kind}`,
  });
  const me = await json<{ sub: string }>('GET', `${w.authUrl}/v1/client/me`, undefined, tokens.access_token);
  return { token: tokens.access_token, sub: me.sub, email };
}

/** Runs `fn` with CPU and RSS metered for every process group, then records it. */
async function measured<T extends RunResult>(
  w: World,
  m: RunLabel,
  fn: () => Promise<T>,
  extra?: (r: T) => Record<string, number>,
): Promise<T> {
  const gwPids = m.gatewayPids ?? (() => [w.gateway.pid]);
  const meters: Record<string, GroupMeter> = {
    gateway: new GroupMeter(gwPids),
    worker: new GroupMeter(m.workerPids ?? (() => [w.worker.pid])),
    authFake: new GroupMeter(() => [w.authFake.pid]),
    chatFake: new GroupMeter(() => [w.chatFake.pid]),
    nginx: new GroupMeter(() => [w.nginx.pid, ...childrenOf(w.nginx.pid)]),
    postgres: new GroupMeter(() => w.stackPids().postgres),
    kafka: new GroupMeter(() => w.stackPids().kafka),
    temporal: new GroupMeter(() => w.stackPids().temporal),
  };
  for (const meter of Object.values(meters)) meter.begin();
  const cpu0 = process.cpuUsage();
  const machine0 = machineCpu();
  const t0 = performance.now();
  const r = await fn();
  const seconds = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(cpu0);
  const machine1 = machineCpu();
  const cpu: Record<string, number> = {};
  let gwRss = { peakRssMb: 0, peakRssSumMb: 0 };
  for (const [name, meter] of Object.entries(meters)) {
    const e = meter.end();
    cpu[name] = e.cores;
    if (name === 'gateway') gwRss = e;
  }
  // The harness itself, plus the pacer process when it ran the load (it reports its own CPU time).
  const childCpuSec = (r as { cpuSec?: number }).cpuSec ?? 0;
  cpu.loadgen = ((used.user + used.system) / 1e6 + childCpuSec) / seconds;
  cpu.stack = cpu.postgres! + cpu.kafka! + cpu.temporal!;
  cpu.machine = (machine1.busy - machine0.busy) / seconds;
  // Everything else on the machine (other users' tests, their stacks): what our numbers competed with.
  const ours = ['gateway', 'worker', 'authFake', 'chatFake', 'nginx', 'stack', 'loadgen'];
  cpu.other = Math.max(0, cpu.machine - ours.reduce((a, k) => a + (cpu[k] ?? 0), 0));
  const rec: Measurement = {
    ...m,
    rps: r.rps,
    p50: r.p50,
    p90: r.p90,
    p99: r.p99,
    n: r.n,
    failed: r.failed,
    cpu,
    gatewayPeakRssMb: gwRss.peakRssMb,
    gatewayPeakRssSumMb: gwRss.peakRssSumMb,
    extra: extra?.(r),
  };
  delete (rec as { gatewayPids?: unknown }).gatewayPids;
  delete (rec as { workerPids?: unknown }).workerPids;
  if (!m.gatewayPids) {
    // V8 heap of the (single) gateway right after the run, to tell live data from reserved memory.
    try {
      const text = await (await fetch(`${w.gatewayAdminUrl}/metrics`)).text();
      const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN) / 2 ** 20;
      rec.extra = {
        ...rec.extra,
        heapUsedMb: metric('nodejs_heap_size_used_bytes'),
        heapTotalMb: metric('nodejs_heap_size_total_bytes'),
      };
    } catch {
      /* not essential */
    }
  }
  results.push(rec);
  const at = m.rate === undefined ? '' : ` @${m.rate}/s`;
  say(
    `${m.scenario}/${m.variant} c=${m.concurrency}${at} r${m.round}: ${fmt(r.rps, 0)}/s p50 ${fmt(r.p50, 2)} p99 ${fmt(r.p99, 2)} ms` +
      `${r.failed ? ` FAILED ${r.failed}` : ''} | cpu gw ${fmt(cpu.gateway!, 2)} lg ${fmt(cpu.loadgen, 2)} all ${fmt(cpu.machine, 2)} other ${fmt(cpu.other, 2)} | rss ${fmt(gwRss.peakRssMb, 0)} MB`,
  );
  if (r.failed > Math.max(5, r.n * 0.005)) say(`  WARNING: ${r.failed} failed requests (${JSON.stringify(r)})`);
  return r;
}

/** Runs a scenario's plan (warm-up, then interleaved rounds), every run metered and recorded. */
const compare = (w: World, plan: Omit<Plan, 'rounds'>) =>
  interleavedRounds({ rounds: P.rounds, ...plan }, (label, load, extra) => measured(w, label, load, extra));

/** `task` in a closed loop with the point's clients for the point's duration. */
const closedLoopAt =
  (task: (worker: number) => Promise<void>) =>
  (at: LoadPoint): Promise<LoopResult> =>
    closedLoop(task, at.clients, at.sec * 1000);

/** The figures an open-loop run keeps beside its latencies. */
const openLoopExtra = (r: OpenLoopResult) => ({ offered: r.offered, sendLagP50: r.lag.p50, sendLagP99: r.lag.p99 });

/**
 * GET `url` with a bearer token in an open loop at the point's rate over the point's clients as
 * keep-alive connections (keepAliveGets): request i at i / rate s on connection i mod clients. It
 * runs in the pacer process (bench/pacer.ts), which opens the connections just before the run and
 * closes them after it, as a server closes idle ones between runs (the auth fake after 5 s) and a
 * reconnect would count in the latency.
 */
const pacedGet =
  (url: string, token: string) =>
  (at: LoadPoint): Promise<PacedResult> => {
    if (at.rate === undefined) throw new Error('an open loop needs a rate');
    return pacer().http(url, { authorization: `Bearer ${token}` }, { clients: at.clients, rate: at.rate, sec: at.sec });
  };

let pacerProcess: Pacer | undefined;
/** The pacer process, started on first use and closed at the end of the run. */
const pacer = () => (pacerProcess ??= Pacer.start());

/** GET `url` with a bearer token through autocannon, at the point's connections, duration and rate. */
const autocannonGet = (url: string, token: string) => (at: LoadPoint) =>
  httpLoad({
    url,
    headers: { authorization: `Bearer ${token}` },
    connections: at.clients,
    durationSec: at.sec,
    overallRate: at.rate,
  });

const meGet = (url: string, token: string) => autocannonGet(`${url}/v1/client/me`, token);

// ---------------------------------------------------------------------------------------------
// Scenario 1: direct proxy, against the upstream itself and nginx

/** The direct-scenario variant whose events are stored but not published (bench/sink-relay.ts). */
const UNPUBLISHED = 'gateway, events not published';

async function scenarioDirect(w: World, token: string) {
  if (SCENARIOS.has('direct')) {
    // The floor (bench/floor.ts): a bare Fastify + undici proxy with the gateway's runtime settings.
    const port = await freePort();
    const floor = start(DIR, 'floor', process.execPath, [join(DIST, 'bench/floor.js')], {
      ...w.env,
      ...RUNTIME_ENV,
      PORT: String(port),
    });
    const floorUrl = `http://127.0.0.1:${port}`;
    await waitFor(floor, 'the floor proxy', () => httpOk(`${floorUrl}/health`));
    // The bound (bench/sink-relay.ts): a second gateway on a database of its own, whose outbox is
    // relayed by the sink relay, which marks rows published and sends nothing. It does all the
    // gateway's work and all the outbox's PostgreSQL work; only the Kafka publish is missing.
    const boundDb = `${w.dbName}_unpublished`;
    const boundEnv = {
      ...w.env,
      DATABASE_URL: (await createDatabase(w.adminDbUrl, boundDb)).toString(),
      OUTBOX_RELAY_ENABLED: 'false',
    };
    let sink: Proc | undefined;
    let bound: Awaited<ReturnType<typeof startGateway>> | undefined;
    try {
      await migrateDatabase(boundEnv);
      sink = start(DIR, 'sink-relay', process.execPath, [join(DIST, 'bench/sink-relay.js')], {
        ...boundEnv,
        ...RUNTIME_ENV,
      });
      await waitFor(sink, 'the sink relay to lead', async () => tail(sink!, 20).includes('sink relay leading'));
      bound = await startGateway(boundEnv, 'gateway-unpublished');
      const boundProcs = bound;
      await compare(w, {
        scenario: 'direct',
        variants: [
          { variant: 'upstream', load: meGet(w.authUrl, token) },
          { variant: 'nginx', load: meGet(w.nginxUrl, token) },
          { variant: 'floor', load: meGet(floorUrl, token), gatewayPids: () => [floor.pid] },
          { variant: 'gateway', load: meGet(w.gatewayUrl, token) },
          {
            variant: UNPUBLISHED,
            load: meGet(boundProcs.url, token),
            gatewayPids: () => [boundProcs.proc.pid],
            workerPids: () => [sink!.pid],
          },
        ],
        points: [{ clients: P.directConc, sec: P.directSec }],
        warm: { clients: P.directConc, sec: P.warmSec },
      });
    } finally {
      await stop(floor);
      if (bound) await stop(bound.proc);
      if (sink) {
        await stop(sink);
        say(`  ${tail(sink, 1).trim()}`);
      }
      await dropDatabase(w.adminDbUrl, boundDb);
    }
  }
  // Light load: a fixed rate far below every target's capacity, paced (pacedGet): at 300 req/s over
  // 10 connections (P.lightRate, P.lightConc) a request goes out every 3.3 ms and each connection is
  // free again long before its next one (every 33 ms), so latency is service time, not queueing
  // behind the harness's own requests; only a stall of the harness sends overdue requests together,
  // and that shows as send lag. (autocannon's overallRate sent each second's requests 10 at a time.)
  const paced = (variant: string, url: string): Variant<OpenLoopResult> => ({
    variant,
    load: pacedGet(`${url}/v1/client/me`, token),
    extra: openLoopExtra,
  });
  if (SCENARIOS.has('light'))
    await compare(w, {
      scenario: 'light',
      variants: [
        paced('upstream', w.authUrl),
        paced('nginx', w.nginxUrl),
        paced('gateway', w.gatewayUrl),
        // For comparison: autocannon's own pacing at the same rate and connections.
        { variant: 'gateway, autocannon overallRate', load: meGet(w.gatewayUrl, token) },
      ],
      points: [{ clients: P.lightConc, sec: P.lightSec, rate: P.lightRate }],
    });
}

async function scenarioScale(w: World, token: string) {
  for (const processes of P.scale) {
    const { proc, url } = await startGateway(w.env, `gateway-x${processes}`, { processes });
    try {
      await compare(w, {
        scenario: 'direct',
        variants: [
          {
            variant: `gateway x${processes}`,
            load: meGet(url, token),
            gatewayPids: () => [proc.pid, ...childrenOf(proc.pid)],
          },
        ],
        points: [{ clients: P.directConc, sec: P.directSec }],
        warm: { clients: P.directConc, sec: P.warmSec },
      });
    } finally {
      await stop(proc);
    }
  }
}

async function scenarioProfile(w: World, token: string) {
  const profDir = join(DIR, 'cpu-profile');
  const spawned = performance.now();
  const { proc, url } = await startGateway(w.env, 'gateway-profiled', {
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`],
  });
  let window: { from: number; to: number };
  try {
    await meGet(url, token)({ clients: P.directConc, sec: P.warmSec });
    const from = performance.now() - spawned;
    await meGet(url, token)({ clients: P.directConc, sec: P.profileSec });
    window = { from: from + 500, to: performance.now() - spawned - 500 };
  } finally {
    await stop(proc);
  }
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile written in ${profDir}`);
  profileSummary = summariseProfile(join(profDir, file), window);
  say(`cpu profile: ${join(profDir, file)}`);
}

// ---------------------------------------------------------------------------------------------
// Scenario 2: chat round trip through Kafka and the chat fake

async function scenarioChat(w: World) {
  const user = await fakeUser(w, 'chat');
  for (let i = 0; i < 3; i += 1)
    await json('POST', `${w.gatewayUrl}/api/chat/conversations/`, { topic: `bench ${i}` }, user.token);
  // The same request without HTTP, auth or the gateway process: this process's own
  // ChatRequestReply (the gateway's client class) straight to Kafka and the fake.
  const direct = new ChatRequestReply({ config: loadConfig(w.env), logger: silent, role: 'bench' });
  await direct.whenReady(30_000);
  const userContext = {
    sub: user.sub,
    email: user.email,
    full_name: 'Bench chat',
    active_org_id: null,
    org_role: null,
  };
  const viaKafka = () => direct.request('chat_get_conversations', {}, { userContext }).then(() => undefined);
  const url = `${w.gatewayUrl}/api/chat/conversations/`;
  try {
    await compare(w, {
      scenario: 'chat',
      variants: [
        { variant: 'gateway', load: autocannonGet(url, user.token) },
        { variant: 'kafka+fake only', load: closedLoopAt(viaKafka) },
      ],
      points: P.chatConc.map((clients) => ({ clients, sec: P.chatSec })),
      warm: { clients: 50, sec: P.warmSec },
    });
    // 2b: the same request at fixed rates, over P.chatRateConc connections (open loop). Both
    // variants run in the pacer process; its ChatRequestReply is the Kafka-only baseline.
    await pacer().chatInit(w.env, userContext);
    const pacedKafka = (at: LoadPoint) => {
      if (at.rate === undefined) throw new Error('an open loop needs a rate');
      return pacer().chat({ rate: at.rate, sec: at.sec });
    };
    await compare(w, {
      scenario: 'chat-rate',
      variants: [
        { variant: 'gateway', load: pacedGet(url, user.token), extra: openLoopExtra },
        { variant: 'kafka+fake only', load: pacedKafka, extra: openLoopExtra },
        // For comparison: autocannon's own pacing at the same rate and connections.
        { variant: 'gateway, autocannon overallRate', load: autocannonGet(url, user.token) },
      ],
      points: P.chatRates.map((rate) => ({ clients: P.chatRateConc, sec: P.chatRateSec, rate })),
    });
  } finally {
    await direct.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Scenario 3: workflow-backed routes, beside the Temporal dev server's own ceiling

async function scenarioWorkflow(w: World) {
  const owner = await fakeUser(w, 'owner');
  const org = await json<{ org_id: string }>('POST', `${w.gatewayUrl}/v1/org`, { name: `${RUN_ID} org` }, owner.token);
  let echoes = 0;
  const echo = async () => {
    await w.temporal.workflow.execute('echoWorkflow', {
      taskQueue: RUN_ID,
      workflowId: `${RUN_ID}/echo/${(echoes += 1)}`,
      args: [{ message: 'bench' }],
    });
  };
  const signUp = (at: LoadPoint) =>
    httpLoad({
      url: `${w.gatewayUrl}/v1/client/sign-up`,
      method: 'POST',
      body: () => JSON.stringify({ email: uniqueEmail('su'), password: 'Bench-password-1', full_name: 'Bench' }),
      connections: at.clients,
      durationSec: at.sec,
    });
  const invite = (at: LoadPoint) =>
    httpLoad({
      url: `${w.gatewayUrl}/v1/org/${org.org_id}/invite`,
      method: 'POST',
      headers: { authorization: `Bearer ${owner.token}` },
      body: () => JSON.stringify({ email: uniqueEmail('inv'), role: 'member' }),
      connections: at.clients,
      durationSec: at.sec,
    });
  await compare(w, {
    scenario: 'workflow',
    variants: [
      { variant: 'sign-up', load: signUp },
      { variant: 'invite', load: invite },
      { variant: 'echo (server ceiling)', load: closedLoopAt(echo) },
    ],
    points: [
      { clients: 1, sec: P.wfLatSec },
      { clients: P.wfConc, sec: P.wfSec },
    ],
    warm: { clients: P.wfConc, sec: P.warmSec },
  });
}

// ---------------------------------------------------------------------------------------------
// Scenario 4: the SSE answer stream

interface SseRun extends LoopResult {
  ttfb: LatencySummary;
  firstToken: LatencySummary;
  chunk: LatencySummary;
  chunksPerStream: number;
}

async function scenarioSse(w: World) {
  const user = await fakeUser(w, 'sse');
  // Replies as the chat fake sent them: (request id, sequence) → producer timestamp (ms).
  const kafka = new Kafka({
    clientId: `${RUN_ID}-sse-probe`,
    brokers: need('KAFKA_BOOTSTRAP_SERVERS').split(','),
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({ groupId: `${RUN_ID}-sse-probe`, maxWaitTimeInMs: 100, minBytes: 1 });
  const sentAt = new Map<string, number>();
  const requestOf = new Map<string, string>(); // question tag → request id
  await consumer.connect();
  await consumer.subscribe({
    topics: [CHAT_TOPIC_ENV.CHAT_SERVICE_RESPONSES_TOPIC!, CHAT_TOPIC_ENV.CHAT_UI_AI_CONVERSATION_TOPIC!],
    fromBeginning: true,
  });
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      const body = JSON.parse(message.value?.toString() ?? '{}') as {
        request_id?: string;
        sequence?: number;
        payload?: { message?: { content?: string }[] };
      };
      if (!body.request_id) return;
      if (topic === CHAT_TOPIC_ENV.CHAT_UI_AI_CONVERSATION_TOPIC) {
        const tag = /\bq-\d+\b/.exec(body.payload?.message?.[0]?.content ?? '')?.[0];
        if (tag) requestOf.set(tag, body.request_id);
      } else if (body.sequence !== undefined) {
        sentAt.set(`${body.request_id}/${body.sequence}`, Number(message.timestamp));
      }
    },
  });

  const dispatcher = new Agent({ connections: 256, keepAliveTimeout: 30_000 });
  let streams = 0;
  const words = 'please answer this benchmark question with every word streamed back one token at a time';
  type Frames = { tag: string; at: number[] };
  const collected: Frames[] = [];
  const ttfb = new Samples();
  const firstToken = new Samples();

  const oneStream = async () => {
    const tag = `q-${(streams += 1)}`;
    const t0 = performance.now();
    const res = await undiciRequest(`${w.gatewayUrl}/api/conversation/`, {
      method: 'POST',
      dispatcher,
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench-model', message: [{ content: `${tag} ${words}` }] }),
    });
    const headersAt = performance.now();
    if (res.statusCode !== 200) throw new Error(`SSE answered ${res.statusCode}: ${await res.body.text()}`);
    const frames: Frames = { tag, at: [] };
    let buffer = '';
    let first = true;
    let done = false;
    for await (const chunk of res.body) {
      const now = performance.timeOrigin + performance.now();
      buffer += (chunk as Buffer).toString('utf8');
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (\w+)/m.exec(frame)?.[1];
        if (!event) continue; // keep-alive comment
        frames.at.push(now);
        if (event === 'message' && first) {
          first = false;
          firstToken.push(now - performance.timeOrigin - t0);
        }
        if (event === 'error') throw new Error(`SSE error frame: ${frame}`);
        if (event === 'done') done = true;
      }
    }
    if (!done) throw new Error('SSE stream ended without a done frame');
    ttfb.push(headersAt - t0);
    collected.push(frames);
  };

  /** One measured run: streams in a closed loop, then per-chunk latency from the probe's timestamps. */
  const sseRun = async (at: LoadPoint): Promise<SseRun> => {
    collected.length = 0;
    ttfb.length = 0;
    firstToken.length = 0;
    const loop = await closedLoop(oneStream, at.clients, at.sec * 1000);
    await sleep(1_500); // let the probe read the last replies
    const chunk = new Samples();
    let frames = 0;
    for (const s of collected) {
      const requestId = requestOf.get(s.tag);
      s.at.forEach((at, seq) => {
        frames += 1;
        const sent = requestId ? sentAt.get(`${requestId}/${seq}`) : undefined;
        if (sent !== undefined) chunk.push(at - sent);
      });
    }
    return {
      ...loop,
      ttfb: summarise(ttfb),
      firstToken: summarise(firstToken),
      chunk: summarise(chunk),
      chunksPerStream: collected.length ? frames / collected.length : 0,
    };
  };

  try {
    await closedLoop(oneStream, 5, P.warmSec * 1000);
    await compare(w, {
      scenario: 'sse',
      variants: [
        {
          variant: 'POST /api/conversation/',
          load: sseRun,
          extra: (r: SseRun) => ({
            ttfbP50: r.ttfb.p50,
            ttfbP99: r.ttfb.p99,
            firstTokenP50: r.firstToken.p50,
            firstTokenP99: r.firstToken.p99,
            chunkP50: r.chunk.p50,
            chunkP99: r.chunk.p99,
            chunkN: r.chunk.n,
            chunksPerStream: r.chunksPerStream,
          }),
        },
      ],
      points: P.sseConc.map((clients) => ({ clients, sec: P.sseSec })),
    });
  } finally {
    await consumer.disconnect();
    await dispatcher.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Report

function versions(w: World): Record<string, string> {
  const pkg = (name: string) =>
    (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  let temporalCli = '?';
  try {
    const pid = readFileSync(join(process.env.GATEWAY_STACK_DIR ?? join(ROOT, '.stack'), 'temporal/pid'), 'utf8');
    const exe = readFileSync(`/proc/${pid.trim()}/cmdline`, 'utf8').split('\0')[0]!;
    temporalCli = execFileSync(exe, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    /* not visible */
  }
  let kafkaVersion = '?';
  try {
    const pid = readFileSync(join(process.env.GATEWAY_STACK_DIR ?? join(ROOT, '.stack'), 'kafka/pid'), 'utf8');
    const cmd = readFileSync(`/proc/${pid.trim()}/cmdline`, 'utf8');
    kafkaVersion = /kafka-(\d+\.\d+\.\d+)/.exec(cmd)?.[1] ?? '?';
  } catch {
    /* not visible */
  }
  void w;
  return {
    node: process.version,
    'gateway/worker runtime': `NODE_OPTIONS="${RUNTIME_ENV.NODE_OPTIONS}" MALLOC_ARENA_MAX=${RUNTIME_ENV.MALLOC_ARENA_MAX} MALLOC_MMAP_THRESHOLD_=${RUNTIME_ENV.MALLOC_MMAP_THRESHOLD_}`,
    nginx: nginxVersion(),
    kafka: kafkaVersion,
    'temporal CLI': temporalCli.replace(/\s+/g, ' '),
    autocannon: pkg('autocannon'),
    fastify: pkg('fastify'),
    undici: pkg('undici'),
    kafkajs: pkg('kafkajs'),
    '@temporalio/client': pkg('@temporalio/client'),
    cpu: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
  };
}

const pick = (scenario: string, variant: string, c?: number, rate?: number) =>
  pickFrom(results, scenario, variant, c, rate);

const runs = ({ rs }: Runs) => rs;

/** How a request of an open loop is scheduled and timed (openLoop). */
const OPEN_LOOP_SCHEDULE =
  'request i is due at i / rate s whether or not earlier ones have answered, timed from its start to its last byte (process.hrtime), ' +
  'in a load-generator process of its own that does nothing else (bench/pacer.ts).';

/** The notes under a table of open loops over `connections` keep-alive connections (keepAliveGets), beside autocannon's overallRate. */
const pacedNotes = (connections: number) => ({
  connections: (who: string) =>
    `- ${who}: ${connections} keep-alive connections opened beforehand, one request at a time each; request i goes out on connection i mod ${connections} ` +
    `(each connection sends every ${connections} / rate s, staggered); a request whose connection is busy waits for it, and that wait counts.`,
  sendLag:
    '- send lag: how late the load generator sent requests against their schedule (its timer and event loop; large on a busy machine). ' +
    'Latencies start when a request is sent, so a large lag means the offered rate was not held, not slower answers.',
  autocannon:
    `- autocannon overallRate, for comparison: autocannon gives each connection rate / ${connections} requests per second and sends them back to back when each second starts, ` +
    `so every second begins with a burst of ${connections} requests at once; its latency is that of the burst, not of a steady rate.`,
});

function report(w: World) {
  const md = new Markdown();

  md.line(`## Benchmark results (${QUICK ? 'quick' : 'full'} run ${RUN_ID}, ${new Date().toISOString()})`);
  md.line();
  md.line(
    `Medians of ${P.rounds} run(s) per row; ratios and differences are taken within each round, then the median.`,
  );
  md.line(
    `CPU in cores (2 cores on this machine: load generator, gateway, upstream fakes and the stack share them); ` +
      `"unattributed" is machine CPU not charged to any process above: other processes (e.g. another test run) and kernel network work. Machine busy before start: ${fmt(busyBefore, 2)} cores.`,
  );
  md.line();
  md.table<[string, string]>(
    [
      ['version', ([k]) => k],
      ['', ([, v]) => v],
    ],
    Object.entries(versions(w)),
  );
  md.line();

  if (SCENARIOS.has('direct') || SCENARIOS.has('scale')) {
    md.line(`### 1. Direct proxy: GET /v1/client/me, ${P.directConc} connections, ${P.directSec} s per run`);
    md.line();
    const isGateway = (r: Runs) => r.name.startsWith('gateway');
    const isNode = (r: Runs) => isGateway(r) || r.name === 'floor';
    md.table<Runs>(
      [
        [
          'target',
          ({ name }) =>
            name === 'upstream'
              ? 'auth fake directly'
              : name === 'nginx'
                ? 'nginx → auth fake'
                : name === 'floor'
                  ? 'floor: bare Fastify + undici proxy → auth fake'
                  : `${name} → auth fake`,
        ],
        ['req/s', ({ rs }) => figure(rs, 'rps', 0)],
        ...latencyColumns('', runs, ['p50', 'p99']),
        ['failed', ({ rs }) => failedSum(rs)],
        ['gateway CPU', (r) => (isNode(r) ? cpuOf(r.rs, 'gateway') : '–')],
        ['auth fake CPU', ({ rs }) => cpuOf(rs, 'authFake')],
        ['nginx CPU', ({ name, rs }) => (name === 'nginx' ? cpuOf(rs, 'nginx') : '–')],
        ['load gen CPU', ({ rs }) => cpuOf(rs, 'loadgen')],
        ['PG+Kafka CPU', ({ rs }) => medFmt(rs, (r) => (r.cpu.postgres ?? 0) + (r.cpu.kafka ?? 0), 2)],
        ...cpuColumns(runs, ['machine', 'unattributed']),
        [
          'gateway peak RSS MB (sum)',
          (r) =>
            isGateway(r) ? `${peakRss(r.rs)} (${fmt(Math.max(...r.rs.map((x) => x.gatewayPeakRssSumMb)), 0)})` : '–',
        ],
      ],
      withRuns(['upstream', 'nginx', 'floor', 'gateway', UNPUBLISHED, ...P.scale.map((n) => `gateway x${n}`)], (v) =>
        pick('direct', v),
      ),
    );
    const gw = pick('direct', 'gateway');
    const ng = pick('direct', 'nginx');
    const up = pick('direct', 'upstream');
    if (gw.length && ng.length) {
      md.line();
      md.line(`- gateway / nginx throughput: **${fmt(100 * roundRatio(gw, ng, (r) => r.rps), 0)} %** (target ≥ 60 %)`);
      md.line(`- nginx / auth fake directly: ${fmt(100 * roundRatio(ng, up, (r) => r.rps), 0)} %`);
      const fl = pick('direct', 'floor');
      if (fl.length) {
        md.line(
          `- floor / nginx: ${fmt(100 * roundRatio(fl, ng, (r) => r.rps), 0)} % (the most a Fastify + undici proxy reaches here)`,
        );
        md.line(
          `- gateway / floor: ${fmt(100 * roundRatio(gw, fl, (r) => r.rps), 0)} % (the cost of the gateway's own work)`,
        );
      }
      const un = pick('direct', UNPUBLISHED);
      if (un.length)
        md.line(
          `- ${UNPUBLISHED} / nginx: ${fmt(100 * roundRatio(un, ng, (r) => r.rps), 0)} % ` +
            `(the most any Kafka producer in the relay could give; gateway / this: ${fmt(100 * roundRatio(gw, un, (r) => r.rps), 0)} %)`,
        );
      for (const n of P.scale) {
        const x = pick('direct', `gateway x${n}`);
        if (x.length) md.line(`- ${n} gateway processes / 1: ${fmt(med(x, (r) => r.rps) / med(gw, (r) => r.rps), 2)}×`);
      }
      // Where the machine's CPU goes per request: the 2 cores are shared, so a target's
      // throughput follows what one of its requests costs everywhere, not in its own process only.
      md.line();
      md.line('CPU time per answered request, µs (median over rounds of cores / req/s):');
      md.line();
      const proxyCpu = (r: Runs) =>
        r.name === 'nginx' ? cpuPerRequest(r.rs, 'nginx') : cpuPerRequest(r.rs, 'gateway');
      md.table<Runs>(
        [
          ['target', ({ name }) => (name === 'upstream' ? 'auth fake directly' : name)],
          ['proxy process', (r) => (r.name === 'upstream' ? '–' : proxyCpu(r))],
          ['worker (outbox relay)', ({ rs }) => cpuPerRequest(rs, 'worker')],
          ['auth fake', ({ rs }) => cpuPerRequest(rs, 'authFake')],
          ['PostgreSQL', ({ rs }) => cpuPerRequest(rs, 'postgres')],
          ['Kafka', ({ rs }) => cpuPerRequest(rs, 'kafka')],
          ['load gen', ({ rs }) => cpuPerRequest(rs, 'loadgen')],
          ['unattributed', ({ rs }) => cpuPerRequest(rs, 'other')],
          ['machine', ({ rs }) => cpuPerRequest(rs, 'machine')],
        ],
        withRuns(['upstream', 'nginx', 'floor', 'gateway', UNPUBLISHED], (v) => pick('direct', v)),
      );
    }
    md.line();
  }

  if (SCENARIOS.has('light')) {
    md.line(
      `### 1b. Light load: GET /v1/client/me at ${P.lightRate} req/s over ${P.lightConc} connections, ${P.lightSec} s per run`,
    );
    md.line();
    md.line(`Open loop: ${OPEN_LOOP_SCHEDULE} "added" is the target minus the auth fake directly, within each round.`);
    md.line();
    const up = pick('light', 'upstream');
    const gatewayAutocannonRuns = ({ name }: Runs) =>
      name === 'gateway' ? pick('light', 'gateway, autocannon overallRate') : [];
    const added = (k: 'p50' | 'p99'): Column<Runs> => [
      `added ${k} ms`,
      ({ name, rs }) => (name === 'upstream' ? '–' : addedFigure(rs, up, k)),
    ];
    md.table<Runs>(
      [
        ['target', ({ name }) => (name === 'upstream' ? 'auth fake directly' : name)],
        ...latencyColumns('', runs, ['p50', 'p90', 'p99']),
        added('p50'),
        added('p99'),
        ['send lag p99 ms', ({ rs }) => extraFigure(rs, 'sendLagP99', 2)],
        ...latencyColumns('autocannon overallRate ', gatewayAutocannonRuns, ['p50', 'p99']),
        ['gateway CPU', ({ name, rs }) => (name === 'gateway' ? cpuOf(rs, 'gateway') : '–')],
      ],
      withRuns(['upstream', 'nginx', 'gateway'], (v) => pick('light', v)),
    );
    md.line();
    const notes = pacedNotes(P.lightConc);
    md.line(notes.connections('every target'));
    md.line(notes.sendLag);
    md.line(notes.autocannon);
    md.line();
  }

  if (SCENARIOS.has('chat')) {
    md.line(
      `### 2. Chat round trip: GET /api/chat/conversations/ through Kafka and the chat fake, closed loop, ${P.chatSec} s per run`,
    );
    md.line();
    type ChatRow = { c: number; g: Measurement[]; k: Measurement[] };
    const gatewayRuns = (r: ChatRow) => r.g;
    const kafkaRuns = (r: ChatRow) => r.k;
    md.table<ChatRow>(
      [
        ['clients', ({ c }) => c],
        ['gateway req/s', ({ g }) => figure(g, 'rps', 0)],
        ...latencyColumns('gateway ', gatewayRuns, ['p50', 'p99']),
        ['Kafka+fake only req/s', ({ k }) => figure(k, 'rps', 0)],
        ...latencyColumns('', kafkaRuns, ['p50', 'p99']),
        ...cpuColumns(gatewayRuns, ['gateway', 'chat fake', 'Kafka', 'machine', 'unattributed']),
        ['gateway peak RSS MB', ({ g }) => peakRss(g)],
      ],
      P.chatConc
        .map((c) => ({ c, g: pick('chat', 'gateway', c), k: pick('chat', 'kafka+fake only', c) }))
        .filter((r) => r.g.length),
    );
    md.line();

    md.line(`### 2b. Chat round trip at a fixed rate (open loop, ${P.chatRateConc} connections)`);
    md.line();
    md.line(`GET /api/chat/conversations/ at a fixed offered rate, ${P.chatRateSec} s per run: ${OPEN_LOOP_SCHEDULE}`);
    md.line();
    type RateRow = { rate: number; g: Measurement[]; k: Measurement[]; a: Measurement[] };
    const gatewayRateRuns = (r: RateRow) => r.g;
    const kafkaRateRuns = (r: RateRow) => r.k;
    const autocannonRuns = (r: RateRow) => r.a;
    const addedOverKafka = (key: 'p50' | 'p99'): Column<RateRow> => [
      `added ${key} ms`,
      (r) => addedFigure(r.g, r.k, key),
    ];
    md.table<RateRow>(
      [
        ['offered req/s', ({ rate }) => rate],
        ['gateway req/s', ({ g }) => figure(g, 'rps', 0)],
        ...latencyColumns('gateway ', gatewayRateRuns, ['p50', 'p90', 'p99']),
        ['Kafka+fake only req/s', ({ k }) => figure(k, 'rps', 0)],
        ...latencyColumns('', kafkaRateRuns, ['p50', 'p90', 'p99']),
        addedOverKafka('p50'),
        addedOverKafka('p99'),
        [
          'send lag p99 ms (gateway / Kafka)',
          ({ g, k }) => `${extraFigure(g, 'sendLagP99', 2)} / ${extraFigure(k, 'sendLagP99', 2)}`,
        ],
        ...latencyColumns('autocannon overallRate ', autocannonRuns, ['p50', 'p99']),
        ...cpuColumns(gatewayRateRuns, ['gateway', 'chat fake', 'Kafka', 'unattributed']),
      ],
      P.chatRates
        .map((rate) => ({
          rate,
          g: pick('chat-rate', 'gateway', undefined, rate),
          k: pick('chat-rate', 'kafka+fake only', undefined, rate),
          a: pick('chat-rate', 'gateway, autocannon overallRate', undefined, rate),
        }))
        .filter((r) => r.g.length),
    );
    md.line();
    const notes = pacedNotes(P.chatRateConc);
    md.line(notes.connections('gateway'));
    md.line(
      '- Kafka+fake only: the same schedule through this process\'s ChatRequestReply (no HTTP, no gateway); "added" is gateway minus that, within each round.',
    );
    md.line(notes.sendLag);
    md.line(notes.autocannon);
    md.line();
  }

  if (SCENARIOS.has('workflow')) {
    md.line(`### 3. Workflow-backed routes on the local Temporal dev server`);
    md.line();
    type WfRow = Runs & { c: number };
    const isEcho = (r: WfRow) => r.name === 'echo (server ceiling)';
    const wf = (r: WfRow) => r.rs;
    md.table<WfRow>(
      [
        [
          'route',
          ({ name }) =>
            name === 'sign-up'
              ? 'POST /v1/client/sign-up'
              : name === 'invite'
                ? 'POST /v1/org/{id}/invite'
                : 'echoWorkflow start→result (Temporal client, no HTTP)',
        ],
        ['clients', ({ c }) => c],
        ['answered/s', ({ rs }) => figure(rs, 'rps', 1)],
        ...latencyColumns('', wf, ['p50', 'p99'], 1),
        ['failed', ({ rs }) => failedSum(rs)],
        ['gateway CPU', (r) => (isEcho(r) ? '–' : cpuOf(r.rs, 'gateway'))],
        ...cpuColumns(wf, ['worker', 'Temporal server', 'PG', 'Kafka', 'machine', 'unattributed']),
        ['gateway peak RSS MB', (r) => (isEcho(r) ? '–' : peakRss(r.rs))],
      ],
      ['sign-up', 'invite', 'echo (server ceiling)']
        .flatMap((name) => [1, P.wfConc].map((c) => ({ name, c, rs: pick('workflow', name, c) })))
        .filter((r) => r.rs.length),
    );
    const su = pick('workflow', 'sign-up', P.wfConc);
    const inv = pick('workflow', 'invite', P.wfConc);
    const ec = pick('workflow', 'echo (server ceiling)', P.wfConc);
    if (su.length && ec.length) {
      md.line();
      md.line(
        `- sign-up / echo ceiling at ${P.wfConc} clients: ${fmt(100 * roundRatio(su, ec, (r) => r.rps), 0)} %; invite / echo: ${fmt(100 * roundRatio(inv, ec, (r) => r.rps), 0)} %`,
      );
    }
    md.line();
  }

  if (SCENARIOS.has('sse')) {
    md.line(`### 4. SSE: POST /api/conversation/ (chat fake streams a token every 30 ms)`);
    md.line();
    type SseRow = { c: number; rs: Measurement[] };
    const x = (key: string, digits: number) => (r: SseRow) => extraFigure(r.rs, key, digits);
    md.table<SseRow>(
      [
        ['streams at once', ({ c }) => c],
        ['streams/s', ({ rs }) => figure(rs, 'rps', 1)],
        ['TTFB p50 ms', x('ttfbP50', 2)],
        ['TTFB p99 ms', x('ttfbP99', 2)],
        ['first token p50 ms', x('firstTokenP50', 1)],
        ['first token p99 ms', x('firstTokenP99', 1)],
        ['per-chunk p50 ms', x('chunkP50', 1)],
        ['per-chunk p99 ms', x('chunkP99', 1)],
        ['chunks measured', ({ rs }) => rs.reduce((a, r) => a + (r.extra?.chunkN ?? 0), 0)],
        ...cpuColumns((r: SseRow) => r.rs, ['gateway', 'unattributed']),
        ['gateway peak RSS MB', ({ rs }) => peakRss(rs)],
      ],
      P.sseConc.map((c) => ({ c, rs: pick('sse', 'POST /api/conversation/', c) })).filter((r) => r.rs.length),
    );
    md.line();
    md.line(
      'Per-chunk latency: from the chat fake handing the chunk to its Kafka producer (the record timestamp) to the frame arriving at the client, same clock, 1 ms resolution.',
    );
    md.line();
  }

  md.line(`### 5. Gateway peak RSS per scenario (largest process, VmHWM)`);
  md.line();
  const maxGatewayCpu = (rs: Measurement[]) => fmt(Math.max(...rs.map((r) => r.cpu.gateway!)), 2);
  const heap = (rs: Measurement[], k: string) =>
    fmt(Math.max(...rs.map((r) => r.extra?.[k] ?? NaN).filter(Number.isFinite)), 0);
  md.table<Runs>(
    [
      ['scenario', ({ name }) => name],
      ['peak RSS MB', ({ rs }) => peakRss(rs)],
      ['max V8 heap used / total MB after a run', ({ rs }) => `${heap(rs, 'heapUsedMb')} / ${heap(rs, 'heapTotalMb')}`],
      ['max gateway CPU (cores)', ({ rs }) => maxGatewayCpu(rs)],
    ],
    withRuns(['direct', 'light', 'chat', 'chat-rate', 'sse', 'workflow'], (s) =>
      results.filter(
        (r) =>
          r.scenario === s &&
          r.variant !== 'floor' &&
          r.variant !== UNPUBLISHED &&
          !r.variant.startsWith('echo') &&
          !r.variant.startsWith('gateway x'),
      ),
    ),
  );
  const multi = results.filter((r) => r.variant.startsWith('gateway x'));
  if (multi.length)
    md.row([
      'direct, several processes',
      `${peakRss(multi)} per process, ${fmt(Math.max(...multi.map((r) => r.gatewayPeakRssSumMb)), 0)} together`,
      '–',
      maxGatewayCpu(multi),
    ]);
  md.line();

  if (profileSummary) {
    md.line(
      `### CPU profile of the direct path (one gateway, ${P.directConc} connections, ${P.profileSec} s; ${fmt(profileSummary.idlePct, 0)} % idle)`,
    );
    md.line();
    md.table<FrameShare>(
      [
        ['self % of busy time', (f) => fmt(f.selfPct, 1)],
        ['function', (f) => `\`${f.frame}\``],
        ['where', (f) => `\`${f.where}\``],
      ],
      profileSummary.top,
    );
    md.line();
    md.table<FrameShare>(
      [
        ['self % by package', (f) => fmt(f.selfPct, 1)],
        ['package', (f) => f.frame],
      ],
      profileSummary.byPackage,
    );
    md.line();
  }
  return md.toString();
}

// ---------------------------------------------------------------------------------------------

async function main() {
  say(`run ${RUN_ID} (${QUICK ? 'quick' : 'full'}); logs, profile and results in ${DIR}`);
  say(
    `load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const m0 = machineCpu();
  await sleep(3_000);
  busyBefore = (machineCpu().busy - m0.busy) / 3;
  say(`machine CPU busy before start (others): ${busyBefore.toFixed(2)} cores`);
  if (busyBefore > 0.25) say('WARNING: the machine is not idle; every figure below competes with that load');
  const world: Partial<World> = {};
  const watchdog = setTimeout(() => {
    say(`watchdog: the run exceeded ${WATCHDOG_MS / 60_000} min; stopping`);
    void tearDown(world).finally(() => process.exit(2));
  }, WATCHDOG_MS);
  const onSignal = () => {
    say('interrupted; stopping');
    void tearDown(world).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let failed = false;
  try {
    Object.assign(world, await setUp());
    const w = world as World;
    const user = await fakeUser(w, 'direct');
    if (SCENARIOS.has('direct') || SCENARIOS.has('light')) await scenarioDirect(w, user.token);
    if (SCENARIOS.has('scale')) await scenarioScale(w, user.token);
    if (SCENARIOS.has('profile')) await scenarioProfile(w, user.token);
    if (SCENARIOS.has('chat')) await scenarioChat(w);
    if (SCENARIOS.has('sse')) await scenarioSse(w);
    if (SCENARIOS.has('workflow')) await scenarioWorkflow(w);
    const text = report(w);
    writeFileSync(join(DIR, 'results.json'), JSON.stringify({ runId: RUN_ID, params: P, results, profileSummary }));
    writeFileSync(join(DIR, 'results.md'), text);
    process.stdout.write(`${text}\n`);
    say(`results: ${join(DIR, 'results.md')} and results.json`);
  } catch (err) {
    failed = true;
    say(`FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  } finally {
    clearTimeout(watchdog);
    await tearDown(world);
  }
  say(
    `load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  process.exit(failed ? 1 : 0);
}

void main();
