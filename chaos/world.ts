import { join } from 'node:path';
import { request } from 'undici';
import { DIR, DIST } from '../bench/lib/params';
import { freePort, httpOk, start, waitFor, type Proc } from '../bench/lib/procs';
import { RUNTIME_ENV } from '../bench/lib/runtime';
import { fakeUser, setUpBase, startWorker, tearDown as tearDownBase, type BaseWorld } from '../bench/lib/base-world';

export interface Replica {
  name: string;
  url: string;
  port: number;
  adminPort: number;
  proc: Proc;
}

export type User = { token: string; sub: string; email: string };

/** What the faults act on: the base world of bench/lib (auth and chat fakes, one worker) and two gateway replicas. */
export interface ChaosWorld extends BaseWorld {
  authFrozen: boolean;
  replicas: Replica[];
  /** Users of the auth fake (signed up at the fake), one per load lane so per-user limits do not bite. */
  users: User[];
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
  // Answers within a fault's window: a sign-up or import that cannot finish in 5 s answers 202.
  await setUpBase(w, { WORKFLOW_SYNC_TIMEOUT_MS: '5000' });
  w.authFrozen = false;
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
  if (w.authFrozen && w.authFake) freezeAuth(w as ChaosWorld, false);
  await tearDownBase(w, 'chaos run finished');
}
