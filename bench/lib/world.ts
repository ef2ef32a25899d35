import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { request as undiciRequest } from 'undici';
import { Client as TemporalClient, Connection as TemporalConnection } from '@temporalio/client';
import { loadConfig } from '../../src/config';
// kafkajs' request queue without its 1 ms timer loop and Node 24's TimeoutNegativeWarning (the admin client here).
import '../../src/kafka/request-queue-fix';
import { AesGcmPayloadCodec } from '../../src/temporal/codec';
import { createDatabase, dropDatabase, migrateDatabase } from './db';
import { startNginx } from './nginx';
import { TABLE_ROUTE, benchRoutesFile, staticSubscription } from './route-table';
import { RUNTIME_ENV } from './runtime';
import { DIR, DIST, RUN_ID, WORKER_PROFILE, need, say } from './params';
import { freePort, httpOk, start, stopAll, tail, waitFor, type Proc } from './procs';

/**
 * Everything the scenarios run against, started once: the auth fake, the chat fake, the worker,
 * the static `/me` responder, and for each of the two upstreams a gateway and an nginx (1 worker).
 */
export interface World {
  env: Record<string, string>;
  dbName: string;
  adminDbUrl: string;
  kafkaAdmin: Admin;
  temporal: TemporalClient;
  temporalConnection: TemporalConnection;
  authFake: Proc;
  authUrl: string;
  chatFake: Proc;
  worker: Proc;
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
  nginxStatic: Proc;
  nginxStaticUrl: string;
  /** A user of the auth fake and its token (valid for the whole run). */
  user: { token: string; sub: string; email: string };
}

const TOPIC = (name: string) => `${RUN_ID}.${name}`;
export const CHAT_TOPIC_ENV: Record<string, string> = Object.fromEntries(
  [
    ['CHAT_SERVICE_RESPONSES_TOPIC', 'chat-service-responses'],
    ['CHAT_SERVICE_EVENTS_TOPIC', 'chat-service-events'],
    ['CHAT_UI_CONVERSATIONS_TOPIC', 'chat-ui-conversations'],
    ['CHAT_UI_MESSAGES_TOPIC', 'chat-ui-messages'],
    ['CHAT_UI_AI_CONVERSATION_TOPIC', 'chat-ui-ai-conversation'],
    ['CHAT_UI_GEN_TITLE_TOPIC', 'chat-ui-gen-title'],
    ['CHAT_UI_UPLOAD_CONVERSATIONS_TOPIC', 'chat-ui-upload-conversations'],
    ['CHAT_UI_PROMPTS_TOPIC', 'chat-ui-prompts'],
    ['CHAT_UI_DOCUMENTS_TOPIC', 'chat-ui-documents'],
    ['CHAT_UI_SETTINGS_TOPIC', 'chat-ui-settings'],
  ].map(([k, v]) => [k!, TOPIC(v!)]),
);
const EVENT_TOPIC_ENV: Record<string, string> = {
  KAFKA_AUTH_EVENTS_TOPIC: TOPIC('auth-events'),
  KAFKA_USER_EVENTS_TOPIC: TOPIC('user-events'),
  KAFKA_ORGANIZATION_EVENTS_TOPIC: TOPIC('organization-events'),
};
export const ALL_TOPICS = [...Object.values(CHAT_TOPIC_ENV), ...Object.values(EVENT_TOPIC_ENV)];

export function baseEnv(dbUrl: URL, authPort: number, internalKey: string): Record<string, string> {
  const authUrl = `http://127.0.0.1:${authPort}`;
  const brokers = need('KAFKA_BOOTSTRAP_SERVERS');
  return {
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
    TEMPORAL_ADDRESS: need('TEMPORAL_ADDRESS'),
    TEMPORAL_NAMESPACE: process.env.TEMPORAL_NAMESPACE || 'default',
    TEMPORAL_TASK_QUEUE: RUN_ID,
    TEMPORAL_CODEC_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    TEMPORAL_SECRETS_KEYS: `s1:${randomBytes(32).toString('base64')}`,
    INTERNAL_SERVICE_KEY: internalKey,
    AUTH_SERVICE_URL: authUrl,
    AUTH_ISSUER: `${authUrl}/realms/auth-service`,
    AUTH_JWKS_URL: `${authUrl}/realms/auth-service/protocol/openid-connect/certs`,
    RATE_LIMIT_AUTH_PER_IP: '1000000',
    RATE_LIMIT_AUTH_PER_ACCOUNT: '1000000',
    COOKIE_SECURE: 'false',
    // The SSE scenario opens up to 20 streams for one bench user; the default (4) would answer 429.
    CHAT_STREAMS_PER_USER: '64',
    INVITE_TTL: '60s',
    AUTH_FAKE_PORT: String(authPort),
    AUTH_FAKE_INTERNAL_KEY: internalKey,
    AUTH_FAKE_ACCESS_TOKEN_TTL_SEC: '7200',
    // The chat fake gets a consumer group of its own (the tests' fake uses the default one).
    CHAT_FAKE_GROUP_ID: `${RUN_ID}-chat-fake`,
  };
}

/** A node process of the repository (dist/…) started and waited for. */
async function startNode(
  name: string,
  script: string,
  env: Record<string, string>,
  ready: (p: Proc) => Promise<boolean>,
) {
  const proc = start(DIR, name, process.execPath, [join(DIST, script)], env);
  await waitFor(proc, name, () => ready(proc));
  return proc;
}

/** The run's database (migrated), its Kafka topics and the auth fake: what every gateway needs. */
export async function setUpBase(w: Partial<World>): Promise<void> {
  // Own database on the stack's server: outbox rows and relay locks stay out of the tests' database.
  w.adminDbUrl = need('DATABASE_URL');
  w.dbName = RUN_ID.replace(/-/g, '_');
  const dbUrl = await createDatabase(w.adminDbUrl, w.dbName);
  const authPort = await freePort();
  const env = (w.env = baseEnv(dbUrl, authPort, randomBytes(24).toString('hex')));
  await migrateDatabase(env);

  const kafka = new Kafka({
    clientId: `${RUN_ID}-admin`,
    brokers: env.KAFKA_BOOTSTRAP_SERVERS!.split(','),
    logLevel: logLevel.NOTHING,
  });
  w.kafkaAdmin = kafka.admin();
  await w.kafkaAdmin.connect();
  await w.kafkaAdmin.createTopics({ waitForLeaders: true, topics: ALL_TOPICS.map((topic) => ({ topic })) });

  w.authUrl = `http://127.0.0.1:${authPort}`;
  w.authFake = await startNode('auth-fake', 'fakes/auth/main.js', env, () => httpOk(`${w.authUrl}/health`));
}

/**
 * The static responder, answering /me exactly as the auth fake did for `w.user`, and the route
 * table's billing path; `w.staticEnv` is the env of a gateway in front of it (its table sends
 * GET /v1/billing/subscription there).
 */
export async function startStaticUpstream(w: Partial<World>): Promise<void> {
  const me = await json<unknown>('GET', `${w.authUrl}/v1/client/me`, undefined, w.user!.token);
  const port = await freePort();
  w.upstreamUrl = `http://127.0.0.1:${port}`;
  w.upstream = await startNode(
    'static-upstream',
    'bench/static-upstream.js',
    {
      ...w.env!,
      PORT: String(port),
      STATIC_ME_JSON: JSON.stringify(me),
      STATIC_SUBSCRIPTION_JSON: staticSubscription(w.user!.sub),
    },
    () => httpOk(`${w.upstreamUrl}/health`),
  );
  const routes = { BILLING_SERVICE_URL: w.upstreamUrl, ROUTES_FILE: benchRoutesFile() };
  w.staticEnv = { ...w.env!, AUTH_SERVICE_URL: w.upstreamUrl, ...routes };
}

export async function setUp(w: Partial<World>): Promise<World> {
  await setUpBase(w);
  const env = w.env!;
  w.chatFake = await startNode('chat-fake', 'fakes/chat/main.js', { ...env, LOG_LEVEL: 'info' }, async (p) =>
    tail(p, 50).includes('chat-service fake listening'),
  );
  w.temporalConnection = await TemporalConnection.connect({ address: env.TEMPORAL_ADDRESS! });
  w.temporal = new TemporalClient({
    connection: w.temporalConnection,
    namespace: env.TEMPORAL_NAMESPACE,
    dataConverter: { payloadCodecs: [AesGcmPayloadCodec.fromConfig(loadConfig(env).TEMPORAL_CODEC_KEYS)] },
  });
  w.worker = await startWorker(w as World);
  ({ proc: w.gateway, url: w.gatewayUrl, adminUrl: w.gatewayAdminUrl } = await startGateway(env, 'gateway'));
  w.user = await fakeUser(w as World, 'direct');
  let port = await freePort();
  w.nginx = await startNginx(DIR, 'nginx', port, [`127.0.0.1:${new URL(w.authUrl!).port}`]);
  w.nginxUrl = `http://127.0.0.1:${port}`;

  await startStaticUpstream(w);
  ({ proc: w.gatewayStatic, url: w.gatewayStaticUrl } = await startGateway(w.staticEnv!, 'gateway-static'));
  // The table route answers through the table (200, timestamps normalised), or the run stops here.
  const sub = await json<{ started_at: string }>('GET', `${w.gatewayStaticUrl}${TABLE_ROUTE}`, undefined, w.user.token);
  if (sub.started_at.endsWith('Z')) throw new Error(`${TABLE_ROUTE} was not transformed: ${sub.started_at}`);
  port = await freePort();
  w.nginxStatic = await startNginx(DIR, 'nginx-static', port, [`127.0.0.1:${new URL(w.upstreamUrl!).port}`]);
  w.nginxStaticUrl = `http://127.0.0.1:${port}`;
  return w as World;
}

export async function startWorker(w: Pick<World, 'env' | 'temporal'>): Promise<Proc> {
  const profile = WORKER_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${join(DIR, 'worker-profile')}`] : [];
  const worker = start(DIR, 'worker', process.execPath, [...profile, join(DIST, 'src/workers/main.js')], {
    ...w.env,
    ...RUNTIME_ENV,
  });
  await waitFor(worker, 'the worker to poll its task queue', async () => {
    const res = await w.temporal.workflowService.describeTaskQueue({
      namespace: w.env.TEMPORAL_NAMESPACE,
      taskQueue: { name: RUN_ID },
      taskQueueType: 1, // workflow
    });
    return (res.pollers?.length ?? 0) > 0;
  });
  return worker;
}

/** A gateway (or `processes` of them behind node:cluster) with the image's runtime settings, ready. */
export async function startGateway(
  env: Record<string, string>,
  name: string,
  /** `dist`: the build output to start the gateway from (default: this checkout's). */
  opts: { processes?: number; nodeArgs?: string[]; dist?: string } = {},
): Promise<{ proc: Proc; url: string; adminUrl: string }> {
  const port = await freePort();
  const adminPort = await freePort();
  const script = opts.processes
    ? [join(DIST, 'bench/cluster.js'), String(opts.processes)]
    : [join(opts.dist ?? DIST, 'src/api/server.js')];
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
  return { proc, url, adminUrl: `http://127.0.0.1:${adminPort}` };
}

/** The floor proxy (bench/floor.ts) with the gateway's runtime settings, in front of `env.AUTH_SERVICE_URL`, ready. */
export async function startFloor(env: Record<string, string>): Promise<{ proc: Proc; url: string }> {
  const port = await freePort();
  const proc = start(DIR, 'floor', process.execPath, [join(DIST, 'bench/floor.js')], {
    ...env,
    ...RUNTIME_ENV,
    PORT: String(port),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(proc, 'the floor proxy', () => httpOk(`${url}/health`));
  return { proc, url };
}

export async function tearDown(w: Partial<World>) {
  say('cleaning up');
  // Workflows still open on our task queue (invites wait for their TTL) are terminated while the worker runs.
  if (w.temporal) {
    try {
      for await (const wf of w.temporal.workflow.list({ query: `TaskQueue="${RUN_ID}" AND ExecutionStatus="Running"` }))
        await w.temporal.workflow
          .getHandle(wf.workflowId, wf.runId)
          .terminate('benchmark finished')
          .catch(() => undefined);
    } catch (err) {
      say(`could not list benchmark workflows: ${String(err)}`);
    }
  }
  await stopAll();
  await w.temporalConnection?.close().catch(() => undefined);
  if (w.kafkaAdmin) {
    await w.kafkaAdmin
      .deleteTopics({ topics: ALL_TOPICS })
      .catch((err: unknown) => say(`topics not deleted: ${String(err)}`));
    // Consumer groups of this run: the chat fake's, the SSE probe's and every gateway's reply consumer.
    const groups = await w.kafkaAdmin.listGroups().catch(() => ({ groups: [] }));
    const ours = groups.groups.map((g) => g.groupId).filter((id) => id.startsWith(`${RUN_ID}-`));
    if (ours.length) await w.kafkaAdmin.deleteGroups(ours).catch(() => undefined);
    await w.kafkaAdmin.disconnect();
  }
  if (w.dbName && w.adminDbUrl) await dropDatabase(w.adminDbUrl, w.dbName);
}

export async function json<T>(method: string, url: string, body?: unknown, token?: string): Promise<T> {
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
export const uniqueEmail = (kind: string) => `${RUN_ID}-${kind}-${(emailCounter += 1)}@example.com`;

/** A user of the auth fake (signed up straight at the fake, not through the workflow). */
export async function fakeUser(
  w: Pick<World, 'authUrl'>,
  kind: string,
): Promise<{ token: string; sub: string; email: string }> {
  const email = uniqueEmail(kind);
  const tokens = await json<{ access_token: string }>('POST', `${w.authUrl}/v1/client/sign-up`, {
    email,
    password: 'Bench-password-1',
    full_name: `Bench ${kind}`,
  });
  const me = await json<{ sub: string }>('GET', `${w.authUrl}/v1/client/me`, undefined, tokens.access_token);
  return { token: tokens.access_token, sub: me.sub, email };
}
