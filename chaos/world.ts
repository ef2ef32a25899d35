import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { request } from 'undici';
import { Client as TemporalClient, Connection as TemporalConnection } from '@temporalio/client';
import { loadConfig } from '../src/config';
import { AesGcmPayloadCodec } from '../src/temporal/codec';
import { createDatabase, dropDatabase, migrateDatabase } from '../bench/lib/db';
import { DIR, DIST, RUN_ID, need, say } from '../bench/lib/params';
import { freePort, httpOk, start, stop, stopAll, tail, waitFor, type Proc } from '../bench/lib/procs';
import { RUNTIME_ENV } from '../bench/lib/runtime';
import { ALL_TOPICS, baseEnv, fakeUser, startWorker } from '../bench/lib/world';

export interface Replica {
  name: string;
  url: string;
  port: number;
  adminPort: number;
  proc: Proc;
}

export type User = { token: string; sub: string; email: string };

/** What the faults act on: the auth and chat fakes, one worker and two gateway replicas. */
export interface ChaosWorld {
  env: Record<string, string>;
  dbUrl: string;
  dbName: string;
  adminDbUrl: string;
  kafka: Kafka;
  kafkaAdmin: Admin;
  temporal: TemporalClient;
  temporalConnection: TemporalConnection;
  authUrl: string;
  authFake: Proc;
  authFrozen: boolean;
  chatFake: Proc;
  worker: Proc;
  replicas: Replica[];
  /** Users of the auth fake (signed up at the fake), one per load lane so per-user limits do not bite. */
  users: User[];
}

const node = (name: string, script: string, env: Record<string, string>) =>
  start(DIR, name, process.execPath, [join(DIST, script)], env);

let chatStarts = 0;

/** The chat fake (a log of its own per start, so readiness is read from this start's lines). */
export async function startChatFake(w: Pick<ChaosWorld, 'env'>): Promise<Proc> {
  chatStarts += 1;
  const name = chatStarts === 1 ? 'chat-fake' : `chat-fake-${chatStarts}`;
  const proc = node(name, 'fakes/chat/main.js', { ...w.env, LOG_LEVEL: 'info' });
  await waitFor(proc, name, async () => tail(proc, 50).includes('chat-service fake listening'));
  return proc;
}

/** A gateway replica on a fixed port (a restart keeps its address), ready. */
export async function startReplica(w: Pick<ChaosWorld, 'env'>, r: Omit<Replica, 'proc'>): Promise<Replica> {
  const proc = start(DIR, r.name, process.execPath, [join(DIST, 'src/api/server.js')], {
    ...w.env,
    ...RUNTIME_ENV,
    PORT: String(r.port),
    ADMIN_PORT: String(r.adminPort),
  });
  await waitFor(proc, `${r.name} /health/ready`, () => httpOk(`${r.url}/health/ready`));
  return { ...r, proc };
}

export async function setUp(w: Partial<ChaosWorld>): Promise<ChaosWorld> {
  w.adminDbUrl = need('DATABASE_URL');
  w.dbName = RUN_ID.replace(/-/g, '_');
  w.dbUrl = (await createDatabase(w.adminDbUrl, w.dbName)).toString();
  const authPort = await freePort();
  const env: Record<string, string> = (w.env = {
    ...baseEnv(new URL(w.dbUrl), authPort, randomBytes(24).toString('hex')),
    // Answers within a fault's window: a sign-up or import that cannot finish in 5 s answers 202.
    WORKFLOW_SYNC_TIMEOUT_MS: '5000',
  });
  await migrateDatabase(env);
  w.kafka = new Kafka({
    clientId: `${RUN_ID}-admin`,
    brokers: env.KAFKA_BOOTSTRAP_SERVERS!.split(','),
    logLevel: logLevel.NOTHING,
  });
  w.kafkaAdmin = w.kafka.admin();
  await w.kafkaAdmin.connect();
  await w.kafkaAdmin.createTopics({ waitForLeaders: true, topics: ALL_TOPICS.map((topic) => ({ topic })) });

  w.authUrl = `http://127.0.0.1:${authPort}`;
  w.authFrozen = false;
  w.authFake = node('auth-fake', 'fakes/auth/main.js', env);
  await waitFor(w.authFake, 'auth fake', () => httpOk(`${w.authUrl}/health`));
  w.chatFake = await startChatFake(w as ChaosWorld);
  w.temporalConnection = await TemporalConnection.connect({ address: env.TEMPORAL_ADDRESS! });
  w.temporal = new TemporalClient({
    connection: w.temporalConnection,
    namespace: env.TEMPORAL_NAMESPACE,
    dataConverter: { payloadCodecs: [AesGcmPayloadCodec.fromConfig(loadConfig(env).TEMPORAL_CODEC_KEYS)] },
  });
  w.worker = await startWorker(w as ChaosWorld);
  w.replicas = [];
  for (const name of ['gateway-a', 'gateway-b']) {
    const [port, adminPort] = [await freePort(), await freePort()];
    w.replicas.push(await startReplica(w as ChaosWorld, { name, port, adminPort, url: `http://127.0.0.1:${port}` }));
  }
  w.users = [];
  for (let i = 0; i < 12; i += 1) w.users.push(await fakeUser(w as ChaosWorld, `lane${i}`));
  return w as ChaosWorld;
}

export async function restartWorker(w: ChaosWorld): Promise<void> {
  w.worker = await startWorker(w);
}

/** Freezes (SIGSTOP) or thaws (SIGCONT) the auth fake: its accounts live in its memory, so it is not restarted. */
export function freezeAuth(w: ChaosWorld, frozen: boolean): void {
  process.kill(w.authFake.pid, frozen ? 'SIGSTOP' : 'SIGCONT');
  w.authFrozen = frozen;
}

/** One counter of a replica's /metrics (summed over labels); undefined when the replica does not answer. */
export async function metric(r: Replica, name: string): Promise<number | undefined> {
  for (const url of [`http://127.0.0.1:${r.adminPort}/metrics`, `${r.url}/metrics`]) {
    try {
      const res = await request(url, { headersTimeout: 2_000, bodyTimeout: 2_000 });
      const text = await res.body.text();
      if (res.statusCode !== 200) continue;
      let sum = 0;
      for (const line of text.split('\n'))
        if (line.startsWith(name) && /^[a-z_]+(\{[^}]*\})? /.test(line)) sum += Number(line.split(' ').pop());
      return sum;
    } catch {
      /* the other listener, or the replica is down */
    }
  }
  return undefined;
}

export async function tearDown(w: Partial<ChaosWorld>): Promise<void> {
  say('cleaning up');
  if (w.authFrozen && w.authFake) freezeAuth(w as ChaosWorld, false);
  if (w.temporal) {
    try {
      for await (const wf of w.temporal.workflow.list({ query: `TaskQueue="${RUN_ID}" AND ExecutionStatus="Running"` }))
        await w.temporal.workflow
          .getHandle(wf.workflowId, wf.runId)
          .terminate('chaos run finished')
          .catch(() => undefined);
    } catch (err) {
      say(`could not list the run's workflows: ${String(err)}`);
    }
  }
  if (w.chatFake) await stop(w.chatFake, 3_000);
  await stopAll();
  await w.temporalConnection?.close().catch(() => undefined);
  if (w.kafkaAdmin) {
    await w.kafkaAdmin
      .deleteTopics({ topics: ALL_TOPICS })
      .catch((err: unknown) => say(`topics not deleted: ${String(err)}`));
    const groups = await w.kafkaAdmin.listGroups().catch(() => ({ groups: [] }));
    const ours = groups.groups.map((g) => g.groupId).filter((id) => id.startsWith(`${RUN_ID}-`));
    if (ours.length) await w.kafkaAdmin.deleteGroups(ours).catch(() => undefined);
    await w.kafkaAdmin.disconnect();
  }
  if (w.dbName && w.adminDbUrl) await dropDatabase(w.adminDbUrl, w.dbName);
}
