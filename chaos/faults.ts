import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { ROOT, RUN_ID, say } from '../bench/lib/params';
import { stop } from '../bench/lib/procs';
import { call, signUpNow, state } from './load';
import { IMPORT_SIZE, OUTAGE_SEC, WORKER_DOWN_SEC, type FaultName } from './params';
import { startChatFake } from '../bench/lib/base-world';
import { freezeAuth, restartWorker, startReplica, type ChaosWorld, type User } from './world';

const run$ = promisify(execFile);

/** One import of IMPORT_SIZE conversations, retried with the same Idempotency-Key while refused (run.ts). */
export interface ImportRecord {
  user: User;
  key: string;
  answers: number[];
  /** Retry-After of the last answer. */
  retryAfterSec?: number;
  operationId?: string;
  /** The operation's last status, or the synchronous answer's. */
  final?: string;
  found?: number;
  doubled?: number;
  missing?: number;
}

export interface Fault {
  name: FaultName;
  title: string;
  target: string;
  /** Breaks the dependency; may start an import (then it runs mid-fault). */
  inject(w: ChaosWorld, imp: () => void): Promise<void>;
  /** How long the fault lasts before `heal`. */
  downSec: number;
  heal(w: ChaosWorld): Promise<void>;
  /** Starts the fault's import after the heal instead (the chat fake forgets everything on restart). */
  importAfterHeal?: boolean;
}

type StackService = 'kafka' | 'postgres' | 'temporal';
/** The stack service a fault has stopped: started again on every exit. */
export let stackStopped: StackService | undefined;

/** Stops or starts one service of the local stack (scripts/stack.sh keeps its data). */
export async function stack(action: 'stop' | 'start', service: StackService) {
  await run$('bash', [join(ROOT, 'scripts', 'stack.sh'), action, service], { timeout: 180_000 });
  stackStopped = action === 'stop' ? service : undefined;
  say(`${service} ${action === 'stop' ? 'stopped' : 'started'}`);
}

const stackFault = (name: StackService, title: string, target: string): Fault => ({
  name,
  title,
  target,
  downSec: OUTAGE_SEC,
  inject: async (_w, imp) => {
    await stack('stop', name);
    imp();
  },
  heal: () => stack('start', name),
});

export const FAULT_LIST: Fault[] = [
  stackFault(
    'kafka',
    `Kafka stopped for ${OUTAGE_SEC} s`,
    'chat 503 ≤ 1 s while down; reads unaffected; readiness stays 200; recovery ≤ 5 s',
  ),
  stackFault(
    'postgres',
    `PostgreSQL stopped for ${OUTAGE_SEC} s`,
    'readiness stays 200; reads and chat keep serving (within the denylist staleness bound); logout, invites, idempotency keys 503 (never 500); recovery ≤ 5 s',
  ),
  stackFault(
    'temporal',
    `Temporal dev server stopped for ${OUTAGE_SEC} s`,
    'workflow routes 503, or 202 with an operation that completes afterwards; direct routes unaffected',
  ),
  {
    name: 'auth',
    title: `auth service (fake) stopped for ${OUTAGE_SEC} s (SIGSTOP, then SIGCONT: it keeps its accounts in memory)`,
    target: 'breaker open: 503 + Retry-After ≤ 100 ms per request; sign-ups in flight complete after',
    downSec: OUTAGE_SEC,
    inject: async (w, imp) => {
      freezeAuth(w, true);
      imp();
    },
    heal: async (w) => freezeAuth(w, false),
  },
  {
    name: 'worker',
    title: `worker SIGKILLed mid-import and mid-sign-up, restarted ${WORKER_DOWN_SEC} s later`,
    target: 'in-flight work completes exactly once after the restart',
    downSec: WORKER_DOWN_SEC,
    inject: async (w, imp) => {
      imp();
      for (let i = 0; i < 3; i += 1) void signUpNow(w);
      await sleep(400);
      process.kill(w.worker.pid, 'SIGKILL');
      await w.worker.exited;
      say('worker killed');
    },
    heal: (w) => restartWorker(w),
  },
  {
    name: 'replica',
    title: `one gateway replica SIGKILLed under load, restarted ${OUTAGE_SEC} s later`,
    target: 'the surviving replica serves without errors; in-flight work completes exactly once',
    downSec: OUTAGE_SEC,
    inject: async (w, imp) => {
      imp();
      await sleep(300);
      // The load balancer of this harness stops sending to it at once; requests in flight are lost.
      state.down.add(0);
      process.kill(w.replicas[0]!.proc.pid, 'SIGKILL');
      await w.replicas[0]!.proc.exited;
      say('gateway-a killed');
    },
    heal: async (w) => {
      const { proc: _dead, ...r } = w.replicas[0]!;
      w.replicas[0] = await startReplica(w, r);
      state.down.delete(0);
    },
  },
  {
    name: 'chat',
    title: 'chat fake restarted mid-stream',
    target: 'streams in flight end with an error frame or 503, never hang; chat serves again after the restart',
    downSec: 0,
    importAfterHeal: true,
    inject: async (w) => {
      for (let i = 0; i < 3; i += 1)
        void call(w, 'ai stream', 'POST', '/api/conversation/', {
          token: w.users[i]!.token,
          // The fake echoes the question a word every 30 ms: about 5 s of stream to cut.
          body: { name: 'chaos', message: [{ content: `mid-stream question ${i} ${'word '.repeat(150)}` }] },
          stream: true,
        });
      await sleep(1_000);
      await stop(w.chatFake, 3_000);
      w.chatFake = await startChatFake(w.env);
      say('chat fake restarted');
    },
    heal: async () => undefined,
  },
];

/** Sends the fault's import (200 conversations for a user of its own); run.ts retries a refusal. */
export async function sendImport(w: ChaosWorld, fault: string, user: User): Promise<ImportRecord> {
  const rec: ImportRecord = { user, key: `${RUN_ID}-import-${fault}`, answers: [] };
  await postImport(w, rec, fault);
  return rec;
}

export async function postImport(w: ChaosWorld, rec: ImportRecord, fault: string) {
  const imports = Array.from({ length: IMPORT_SIZE }, (_, i) => ({
    conversation_topic: `${fault} import ${i}`,
    messages: [
      { role: 'user', content: `question ${i}` },
      { role: 'assistant', content: `answer ${i}` },
    ],
  }));
  const res = await call(w, 'import', 'POST', '/api/upload_conversations/', {
    token: rec.user.token,
    body: { imports },
    headers: { 'idempotency-key': rec.key },
  });
  rec.answers.push(res.status);
  rec.retryAfterSec = res.retryAfterSec;
  if (typeof res.body?.operation_id === 'string') rec.operationId = res.body.operation_id;
  if (res.status === 200) rec.final = 'completed';
}
