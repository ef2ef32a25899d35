/**
 * The benchmark harness (`npm run bench`, `npm run bench -- --quick`; see README, Performance).
 * Starts on 127.0.0.1 everything it measures — auth fake, chat fake, worker, gateway(s), nginx —
 * against the local stack (its own database, Kafka topics, consumer groups and task queue, so the
 * stack's other users are not disturbed), runs every scenario several times, interleaving the
 * variants that are compared, prints medians and same-run ratios, and stops everything it started.
 *
 *   node dist/bench/run.js [--quick] [--only=direct,light,scale,profile,chat,workflow,sse]
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
import { closedLoop, httpLoad, type LoopResult } from './lib/load';
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
import { summariseProfile, type ProfileSummary } from './lib/profile';
import { Samples, fmt, median, summarise, type LatencySummary } from './lib/stats';

// ---------------------------------------------------------------------------------------------
// Parameters

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const only = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const SCENARIOS = new Set((only ?? 'direct,light,scale,profile,chat,workflow,sse').split(','));

const P = QUICK
  ? {
      rounds: 1,
      warmSec: 1,
      directSec: 3,
      directConc: 50,
      lightSec: 3,
      lightRate: 300,
      lightConc: 10,
      scale: [2],
      profileSec: 4,
      chatSec: 3,
      chatConc: [1, 50, 200],
      wfLatSec: 3,
      wfSec: 3,
      wfConc: 20,
      sseSec: 3,
      sseConc: [1, 20],
    }
  : {
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
      wfLatSec: 5,
      wfSec: 8,
      wfConc: 20,
      sseSec: 5,
      sseConc: [1, 20],
    };
/** Hard stop for the whole run: everything started is stopped even if a scenario hangs. */
const WATCHDOG_MS = QUICK ? 5 * 60_000 : 15 * 60_000;

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

interface Measurement {
  scenario: string;
  variant: string;
  round: number;
  concurrency: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  n: number;
  failed: number;
  /** CPU in cores (1.0 = one core busy for the whole run), per process group. */
  cpu: Record<string, number>;
  /** Peak RSS (MB) of the largest gateway process, and of all gateway processes together. */
  gatewayPeakRssMb: number;
  gatewayPeakRssSumMb: number;
  extra?: Record<string, number>;
}

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
  const pg = new PgClient({ connectionString: stackDbUrl });
  await pg.connect();
  await pg.query(`create database ${dbName}`);
  await pg.end();
  const dbUrl = new URL(stackDbUrl);
  dbUrl.pathname = `/${dbName}`;

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

  say(`database ${dbName}: migrating`);
  const migrate = start(DIR, 'migrate', process.execPath, [join(DIST, 'src/db/migrate.js')], env);
  if ((await migrate.exited) !== 0) throw new Error(`migration failed:\n${tail(migrate)}`);

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
  const worker = start(DIR, 'worker', process.execPath, [join(DIST, 'src/workers/main.js')], env);
  await waitFor(worker, 'the worker to poll its task queue', async () => {
    const res = await temporal.workflowService.describeTaskQueue({
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue: { name: RUN_ID },
      taskQueueType: 1, // workflow
    });
    return (res.pollers?.length ?? 0) > 0;
  });

  const { proc: gateway, url: gatewayUrl } = await startGateway(env, 'gateway');

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
    nginx,
    nginxUrl: `http://127.0.0.1:${nginxPort}`,
    temporal,
    temporalConnection,
    stackPids,
  };
}

async function startGateway(
  env: Record<string, string>,
  name: string,
  opts: { processes?: number; nodeArgs?: string[] } = {},
): Promise<{ proc: Proc; url: string; port: number }> {
  const port = await freePort();
  const script = opts.processes
    ? [join(DIST, 'bench/cluster.js'), String(opts.processes)]
    : [join(DIST, 'src/api/server.js')];
  const proc = start(DIR, name, process.execPath, [...(opts.nodeArgs ?? []), ...script], {
    ...env,
    PORT: String(port),
  });
  const url = `http://127.0.0.1:${port}`;
  // Every process of a cluster must be ready: ask until a run of answers in a row is 200.
  let streak = 0;
  const want = (opts.processes ?? 1) * 4;
  await waitFor(proc, `${name} /health/ready`, async () => {
    streak = (await httpOk(`${url}/health/ready`).catch(() => false)) ? streak + 1 : 0;
    return streak >= want;
  });
  return { proc, url, port };
}

async function tearDown(w: Partial<World>) {
  say('cleaning up');
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
  if (w.dbName && w.adminDbUrl) {
    const pg = new PgClient({ connectionString: w.adminDbUrl });
    try {
      await pg.connect();
      await pg.query(`drop database if exists ${w.dbName} with (force)`);
    } catch (err) {
      say(`database ${w.dbName} not dropped: ${String(err)}`);
    } finally {
      await pg.end().catch(() => undefined);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

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
async function measured<T extends { rps: number; p50: number; p90: number; p99: number; n: number; failed: number }>(
  w: World,
  m: { scenario: string; variant: string; round: number; concurrency: number; gatewayPids?: () => number[] },
  fn: () => Promise<T>,
  extra?: (r: T) => Record<string, number>,
): Promise<T> {
  const gwPids = m.gatewayPids ?? (() => [w.gateway.pid]);
  const meters: Record<string, GroupMeter> = {
    gateway: new GroupMeter(gwPids),
    worker: new GroupMeter(() => [w.worker.pid]),
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
  cpu.loadgen = (used.user + used.system) / 1e6 / seconds;
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
  if (!m.gatewayPids) {
    // V8 heap of the (single) gateway right after the run, to tell live data from reserved memory.
    try {
      const text = await (await fetch(`${w.gatewayUrl}/metrics`)).text();
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
  say(
    `${m.scenario}/${m.variant} c=${m.concurrency} r${m.round}: ${fmt(r.rps, 0)}/s p50 ${fmt(r.p50, 2)} p99 ${fmt(r.p99, 2)} ms` +
      `${r.failed ? ` FAILED ${r.failed}` : ''} | cpu gw ${fmt(cpu.gateway!, 2)} lg ${fmt(cpu.loadgen, 2)} all ${fmt(cpu.machine, 2)} other ${fmt(cpu.other, 2)} | rss ${fmt(gwRss.peakRssMb, 0)} MB`,
  );
  if (r.failed > Math.max(5, r.n * 0.005)) say(`  WARNING: ${r.failed} failed requests (${JSON.stringify(r)})`);
  return r;
}

const meGet = (url: string, token: string, connections: number, durationSec: number, overallRate?: number) =>
  httpLoad({
    url: `${url}/v1/client/me`,
    headers: { authorization: `Bearer ${token}` },
    connections,
    durationSec,
    overallRate,
  });

// ---------------------------------------------------------------------------------------------
// Scenario 1: direct proxy, against the upstream itself and nginx

async function scenarioDirect(w: World, token: string) {
  const targets = [
    { variant: 'upstream', url: w.authUrl },
    { variant: 'nginx', url: w.nginxUrl },
    { variant: 'gateway', url: w.gatewayUrl },
  ];
  if (SCENARIOS.has('direct')) {
    for (const t of targets) await meGet(t.url, token, P.directConc, P.warmSec);
    for (let round = 1; round <= P.rounds; round += 1) {
      for (const t of targets) {
        await measured(w, { scenario: 'direct', variant: t.variant, round, concurrency: P.directConc }, () =>
          meGet(t.url, token, P.directConc, P.directSec),
        );
      }
    }
  }
  if (SCENARIOS.has('light')) {
    // Light load: a fixed rate far below every target's capacity, so latency is service time, not queueing.
    for (let round = 1; round <= P.rounds; round += 1) {
      for (const t of targets) {
        await measured(w, { scenario: 'light', variant: t.variant, round, concurrency: P.lightConc }, () =>
          meGet(t.url, token, P.lightConc, P.lightSec, P.lightRate),
        );
      }
    }
  }
}

async function scenarioScale(w: World, token: string) {
  for (const processes of P.scale) {
    const { proc, url } = await startGateway(w.env, `gateway-x${processes}`, { processes });
    try {
      await meGet(url, token, P.directConc, P.warmSec);
      for (let round = 1; round <= P.rounds; round += 1) {
        await measured(
          w,
          {
            scenario: 'direct',
            variant: `gateway x${processes}`,
            round,
            concurrency: P.directConc,
            gatewayPids: () => [proc.pid, ...childrenOf(proc.pid)],
          },
          () => meGet(url, token, P.directConc, P.directSec),
        );
      }
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
    await meGet(url, token, P.directConc, P.warmSec);
    const from = performance.now() - spawned;
    await meGet(url, token, P.directConc, P.profileSec);
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
  try {
    await httpLoad({
      url: `${w.gatewayUrl}/api/chat/conversations/`,
      headers: { authorization: `Bearer ${user.token}` },
      connections: 50,
      durationSec: P.warmSec,
    });
    await closedLoop(viaKafka, 50, P.warmSec * 1000);
    for (let round = 1; round <= P.rounds; round += 1) {
      for (const c of P.chatConc) {
        await measured(w, { scenario: 'chat', variant: 'gateway', round, concurrency: c }, () =>
          httpLoad({
            url: `${w.gatewayUrl}/api/chat/conversations/`,
            headers: { authorization: `Bearer ${user.token}` },
            connections: c,
            durationSec: P.chatSec,
          }),
        );
        await measured(w, { scenario: 'chat', variant: 'kafka+fake only', round, concurrency: c }, () =>
          closedLoop(viaKafka, c, P.chatSec * 1000),
        );
      }
    }
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
  const signUp = (c: number, sec: number) =>
    httpLoad({
      url: `${w.gatewayUrl}/v1/client/sign-up`,
      method: 'POST',
      body: () => JSON.stringify({ email: uniqueEmail('su'), password: 'Bench-password-1', full_name: 'Bench' }),
      connections: c,
      durationSec: sec,
    });
  const invite = (c: number, sec: number) =>
    httpLoad({
      url: `${w.gatewayUrl}/v1/org/${org.org_id}/invite`,
      method: 'POST',
      headers: { authorization: `Bearer ${owner.token}` },
      body: () => JSON.stringify({ email: uniqueEmail('inv'), role: 'member' }),
      connections: c,
      durationSec: sec,
    });
  await signUp(P.wfConc, P.warmSec);
  await invite(P.wfConc, P.warmSec);
  await closedLoop(echo, P.wfConc, P.warmSec * 1000);
  for (let round = 1; round <= P.rounds; round += 1) {
    for (const [c, sec] of [
      [1, P.wfLatSec],
      [P.wfConc, P.wfSec],
    ] as const) {
      await measured(w, { scenario: 'workflow', variant: 'sign-up', round, concurrency: c }, () => signUp(c, sec));
      await measured(w, { scenario: 'workflow', variant: 'invite', round, concurrency: c }, () => invite(c, sec));
      await measured(w, { scenario: 'workflow', variant: 'echo (server ceiling)', round, concurrency: c }, () =>
        closedLoop(echo, c, sec * 1000),
      );
    }
  }
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

  try {
    await closedLoop(oneStream, 5, P.warmSec * 1000);
    for (let round = 1; round <= P.rounds; round += 1) {
      for (const c of P.sseConc) {
        collected.length = 0;
        ttfb.length = 0;
        firstToken.length = 0;
        await measured(
          w,
          { scenario: 'sse', variant: 'POST /api/conversation/', round, concurrency: c },
          async (): Promise<SseRun> => {
            const loop = await closedLoop(oneStream, c, P.sseSec * 1000);
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
          },
          (r) => ({
            ttfbP50: r.ttfb.p50,
            ttfbP99: r.ttfb.p99,
            firstTokenP50: r.firstToken.p50,
            firstTokenP99: r.firstToken.p99,
            chunkP50: r.chunk.p50,
            chunkP99: r.chunk.p99,
            chunkN: r.chunk.n,
            chunksPerStream: r.chunksPerStream,
          }),
        );
      }
    }
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

function pick(scenario: string, variant: string, c?: number) {
  return results.filter(
    (r) => r.scenario === scenario && r.variant === variant && (c === undefined || r.concurrency === c),
  );
}

function med(rs: Measurement[], f: (r: Measurement) => number) {
  return median(rs.map(f));
}

/** Median over rounds of a ratio taken within each round. */
function roundRatio(a: Measurement[], b: Measurement[], f: (r: Measurement) => number) {
  const ratios: number[] = [];
  for (const x of a) {
    const y = b.find((r) => r.round === x.round);
    if (y) ratios.push(f(x) / f(y));
  }
  return median(ratios);
}

function roundDiff(a: Measurement[], b: Measurement[], f: (r: Measurement) => number) {
  const diffs: number[] = [];
  for (const x of a) {
    const y = b.find((r) => r.round === x.round);
    if (y) diffs.push(f(x) - f(y));
  }
  return median(diffs);
}

function report(w: World) {
  const out: string[] = [];
  const line = (s = '') => out.push(s);
  const row = (cells: (string | number)[]) => line(`| ${cells.join(' | ')} |`);
  const head = (cells: string[]) => {
    row(cells);
    row(cells.map(() => '---'));
  };
  const cpu = (rs: Measurement[], k: string) =>
    fmt(
      med(rs, (r) => r.cpu[k] ?? NaN),
      2,
    );
  const rss = (rs: Measurement[]) => fmt(Math.max(...rs.map((r) => r.gatewayPeakRssMb)), 0);

  line(`## Benchmark results (${QUICK ? 'quick' : 'full'} run ${RUN_ID}, ${new Date().toISOString()})`);
  line();
  line(`Medians of ${P.rounds} run(s) per row; ratios and differences are taken within each round, then the median.`);
  line(
    `CPU in cores (2 cores on this machine: load generator, gateway, upstream fakes and the stack share them); ` +
      `"unattributed" is machine CPU not charged to any process above: other processes (e.g. another test run) and kernel network work. Machine busy before start: ${fmt(busyBefore, 2)} cores.`,
  );
  line();
  head(['version', '']);
  for (const [k, v] of Object.entries(versions(w))) row([k, v]);
  line();

  if (SCENARIOS.has('direct') || SCENARIOS.has('scale')) {
    line(`### 1. Direct proxy: GET /v1/client/me, ${P.directConc} connections, ${P.directSec} s per run`);
    line();
    head([
      'target',
      'req/s',
      'p50 ms',
      'p99 ms',
      'failed',
      'gateway CPU',
      'auth fake CPU',
      'nginx CPU',
      'load gen CPU',
      'PG+Kafka CPU',
      'machine CPU',
      'unattributed CPU',
      'gateway peak RSS MB (sum)',
    ]);
    const variants = ['upstream', 'nginx', 'gateway', ...P.scale.map((n) => `gateway x${n}`)];
    for (const v of variants) {
      const rs = pick('direct', v);
      if (!rs.length) continue;
      row([
        v === 'upstream' ? 'auth fake directly' : v === 'nginx' ? 'nginx → auth fake' : `${v} → auth fake`,
        fmt(
          med(rs, (r) => r.rps),
          0,
        ),
        fmt(
          med(rs, (r) => r.p50),
          2,
        ),
        fmt(
          med(rs, (r) => r.p99),
          2,
        ),
        rs.reduce((a, r) => a + r.failed, 0),
        v.startsWith('gateway') ? cpu(rs, 'gateway') : '–',
        cpu(rs, 'authFake'),
        v === 'nginx' ? cpu(rs, 'nginx') : '–',
        cpu(rs, 'loadgen'),
        fmt(
          med(rs, (r) => (r.cpu.postgres ?? 0) + (r.cpu.kafka ?? 0)),
          2,
        ),
        cpu(rs, 'machine'),
        cpu(rs, 'other'),
        v.startsWith('gateway') ? `${rss(rs)} (${fmt(Math.max(...rs.map((r) => r.gatewayPeakRssSumMb)), 0)})` : '–',
      ]);
    }
    const gw = pick('direct', 'gateway');
    const ng = pick('direct', 'nginx');
    const up = pick('direct', 'upstream');
    if (gw.length && ng.length) {
      line();
      line(`- gateway / nginx throughput: **${fmt(100 * roundRatio(gw, ng, (r) => r.rps), 0)} %** (target ≥ 60 %)`);
      line(`- nginx / auth fake directly: ${fmt(100 * roundRatio(ng, up, (r) => r.rps), 0)} %`);
      for (const n of P.scale) {
        const x = pick('direct', `gateway x${n}`);
        if (x.length) line(`- ${n} gateway processes / 1: ${fmt(med(x, (r) => r.rps) / med(gw, (r) => r.rps), 2)}×`);
      }
    }
    line();
  }

  if (SCENARIOS.has('light')) {
    line(
      `### 1b. Light load: GET /v1/client/me at ${P.lightRate} req/s over ${P.lightConc} connections, ${P.lightSec} s per run`,
    );
    line();
    head(['target', 'p50 ms', 'p90 ms', 'p99 ms', 'added p50 ms', 'added p99 ms', 'gateway CPU']);
    const up = pick('light', 'upstream');
    for (const v of ['upstream', 'nginx', 'gateway']) {
      const rs = pick('light', v);
      if (!rs.length) continue;
      row([
        v === 'upstream' ? 'auth fake directly' : v,
        fmt(
          med(rs, (r) => r.p50),
          2,
        ),
        fmt(
          med(rs, (r) => r.p90),
          2,
        ),
        fmt(
          med(rs, (r) => r.p99),
          2,
        ),
        v === 'upstream'
          ? '–'
          : fmt(
              roundDiff(rs, up, (r) => r.p50),
              2,
            ),
        v === 'upstream'
          ? '–'
          : fmt(
              roundDiff(rs, up, (r) => r.p99),
              2,
            ),
        v === 'gateway' ? cpu(rs, 'gateway') : '–',
      ]);
    }
    line();
  }

  if (SCENARIOS.has('chat')) {
    line(
      `### 2. Chat round trip: GET /api/chat/conversations/ through Kafka and the chat fake, closed loop, ${P.chatSec} s per run`,
    );
    line();
    head([
      'clients',
      'gateway req/s',
      'gateway p50 ms',
      'gateway p99 ms',
      'Kafka+fake only req/s',
      'p50 ms',
      'p99 ms',
      'gateway CPU',
      'chat fake CPU',
      'Kafka CPU',
      'machine CPU',
      'unattributed CPU',
      'gateway peak RSS MB',
    ]);
    for (const c of P.chatConc) {
      const g = pick('chat', 'gateway', c);
      const k = pick('chat', 'kafka+fake only', c);
      if (!g.length) continue;
      row([
        c,
        fmt(
          med(g, (r) => r.rps),
          0,
        ),
        fmt(
          med(g, (r) => r.p50),
          2,
        ),
        fmt(
          med(g, (r) => r.p99),
          2,
        ),
        fmt(
          med(k, (r) => r.rps),
          0,
        ),
        fmt(
          med(k, (r) => r.p50),
          2,
        ),
        fmt(
          med(k, (r) => r.p99),
          2,
        ),
        cpu(g, 'gateway'),
        cpu(g, 'chatFake'),
        cpu(g, 'kafka'),
        cpu(g, 'machine'),
        cpu(g, 'other'),
        rss(g),
      ]);
    }
    line();
  }

  if (SCENARIOS.has('workflow')) {
    line(`### 3. Workflow-backed routes on the local Temporal dev server`);
    line();
    head([
      'route',
      'clients',
      'answered/s',
      'p50 ms',
      'p99 ms',
      'failed',
      'gateway CPU',
      'worker CPU',
      'Temporal server CPU',
      'PG CPU',
      'Kafka CPU',
      'machine CPU',
      'unattributed CPU',
      'gateway peak RSS MB',
    ]);
    for (const v of ['sign-up', 'invite', 'echo (server ceiling)']) {
      for (const c of [1, P.wfConc]) {
        const rs = pick('workflow', v, c);
        if (!rs.length) continue;
        row([
          v === 'sign-up'
            ? 'POST /v1/client/sign-up'
            : v === 'invite'
              ? 'POST /v1/org/{id}/invite'
              : 'echoWorkflow start→result (Temporal client, no HTTP)',
          c,
          fmt(
            med(rs, (r) => r.rps),
            1,
          ),
          fmt(
            med(rs, (r) => r.p50),
            1,
          ),
          fmt(
            med(rs, (r) => r.p99),
            1,
          ),
          rs.reduce((a, r) => a + r.failed, 0),
          v === 'echo (server ceiling)' ? '–' : cpu(rs, 'gateway'),
          cpu(rs, 'worker'),
          cpu(rs, 'temporal'),
          cpu(rs, 'postgres'),
          cpu(rs, 'kafka'),
          cpu(rs, 'machine'),
          cpu(rs, 'other'),
          v === 'echo (server ceiling)' ? '–' : rss(rs),
        ]);
      }
    }
    const su = pick('workflow', 'sign-up', P.wfConc);
    const inv = pick('workflow', 'invite', P.wfConc);
    const ec = pick('workflow', 'echo (server ceiling)', P.wfConc);
    if (su.length && ec.length) {
      line();
      line(
        `- sign-up / echo ceiling at ${P.wfConc} clients: ${fmt(100 * roundRatio(su, ec, (r) => r.rps), 0)} %; invite / echo: ${fmt(100 * roundRatio(inv, ec, (r) => r.rps), 0)} %`,
      );
    }
    line();
  }

  if (SCENARIOS.has('sse')) {
    line(`### 4. SSE: POST /api/conversation/ (chat fake streams a token every 30 ms)`);
    line();
    head([
      'streams at once',
      'streams/s',
      'TTFB p50 ms',
      'TTFB p99 ms',
      'first token p50 ms',
      'first token p99 ms',
      'per-chunk p50 ms',
      'per-chunk p99 ms',
      'chunks measured',
      'gateway CPU',
      'unattributed CPU',
      'gateway peak RSS MB',
    ]);
    for (const c of P.sseConc) {
      const rs = pick('sse', 'POST /api/conversation/', c);
      if (!rs.length) continue;
      const x = (k: string) => med(rs, (r) => r.extra?.[k] ?? NaN);
      row([
        c,
        fmt(
          med(rs, (r) => r.rps),
          1,
        ),
        fmt(x('ttfbP50'), 2),
        fmt(x('ttfbP99'), 2),
        fmt(x('firstTokenP50'), 1),
        fmt(x('firstTokenP99'), 1),
        fmt(x('chunkP50'), 1),
        fmt(x('chunkP99'), 1),
        rs.reduce((a, r) => a + (r.extra?.chunkN ?? 0), 0),
        cpu(rs, 'gateway'),
        cpu(rs, 'other'),
        rss(rs),
      ]);
    }
    line();
    line(
      'Per-chunk latency: from the chat fake handing the chunk to its Kafka producer (the record timestamp) to the frame arriving at the client, same clock, 1 ms resolution.',
    );
    line();
  }

  line(`### 5. Gateway peak RSS per scenario (largest process, VmHWM)`);
  line();
  head(['scenario', 'peak RSS MB', 'max V8 heap used / total MB after a run', 'max gateway CPU (cores)']);
  for (const s of ['direct', 'light', 'chat', 'sse', 'workflow']) {
    const rs = results.filter(
      (r) => r.scenario === s && !r.variant.startsWith('echo') && !r.variant.startsWith('gateway x'),
    );
    if (!rs.length) continue;
    const heap = (k: string) => fmt(Math.max(...rs.map((r) => r.extra?.[k] ?? NaN).filter(Number.isFinite)), 0);
    row([
      s,
      rss(rs),
      `${heap('heapUsedMb')} / ${heap('heapTotalMb')}`,
      fmt(Math.max(...rs.map((r) => r.cpu.gateway!)), 2),
    ]);
  }
  const multi = results.filter((r) => r.variant.startsWith('gateway x'));
  if (multi.length)
    row([
      'direct, several processes',
      `${rss(multi)} per process, ${fmt(Math.max(...multi.map((r) => r.gatewayPeakRssSumMb)), 0)} together`,
      '–',
      fmt(Math.max(...multi.map((r) => r.cpu.gateway!)), 2),
    ]);
  line();

  if (profileSummary) {
    line(
      `### CPU profile of the direct path (one gateway, ${P.directConc} connections, ${P.profileSec} s; ${fmt(profileSummary.idlePct, 0)} % idle)`,
    );
    line();
    head(['self % of busy time', 'function', 'where']);
    for (const f of profileSummary.top) row([fmt(f.selfPct, 1), `\`${f.frame}\``, `\`${f.where}\``]);
    line();
    head(['self % by package', 'package']);
    for (const f of profileSummary.byPackage) row([fmt(f.selfPct, 1), f.frame]);
    line();
  }
  return out.join('\n');
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
