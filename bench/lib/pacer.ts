import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { CanaryFigures, CanaryRequest } from '../canary';
import type { PacerReply, PacerRequest } from '../pacer';
import type { OpenLoopResult } from './load';

/**
 * Figures of one open-loop run in the pacer process, with that process's CPU time and how late an
 * idle process's timer fired meanwhile (bench/canary.ts: the machine's delays, not the target's).
 */
export type PacedResult = OpenLoopResult & { cpuSec: number; idle: CanaryFigures };

/**
 * The parent's side of bench/pacer.ts: a separate load-generator process for open loops, asked
 * for one run at a time over IPC. The schedule and all timing happen in the child.
 */
export class Pacer {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly child: ChildProcess,
    private readonly canary: ChildProcess,
  ) {}

  static start(): Pacer {
    const start = (script: string) =>
      fork(join(__dirname, '..', script), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new Pacer(start('pacer.js'), start('canary.js'));
  }

  /** GET `url` at `rate`/s for `sec` over `clients` keep-alive connections opened for the run. */
  http(url: string, headers: Record<string, string>, at: { clients: number; rate: number; sec: number }) {
    return this.watched(() => this.ask({ cmd: 'http', url, headers, ...at }));
  }

  /** Connects the child's own ChatRequestReply (joins its reply group) for `chat` runs. */
  async chatInit(env: Record<string, string>, userContext: Extract<PacerRequest, { cmd: 'chat-init' }>['userContext']) {
    await this.ask({ cmd: 'chat-init', env, userContext });
  }

  /** Disconnects the child's ChatRequestReply (its consumer stops reading the reply topic). */
  async chatClose() {
    await this.ask({ cmd: 'chat-close' });
  }

  /** `chat_get_conversations` straight to Kafka at `rate`/s for `sec` (no HTTP, no gateway). */
  chat(at: { rate: number; sec: number }) {
    return this.watched(() => this.ask({ cmd: 'chat', ...at }));
  }

  async close(): Promise<void> {
    await Promise.all([stopChild(this.child, { cmd: 'exit' }), stopChild(this.canary, { cmd: 'exit' })]);
  }

  /** One run with the canary watching the machine meanwhile (runs are one at a time: the harness awaits each). */
  private async watched(run: () => Promise<unknown>): Promise<PacedResult> {
    await exchange(this.canary, { cmd: 'start' });
    try {
      return { ...((await run()) as Omit<PacedResult, 'idle'>), idle: await exchange(this.canary, { cmd: 'stop' }) };
    } catch (err) {
      await exchange(this.canary, { cmd: 'stop' }).catch(() => undefined);
      throw err;
    }
  }

  /** One request at a time: the child runs one loop at once. */
  private ask(msg: PacerRequest): Promise<Omit<PacedResult, 'idle'> | undefined> {
    const next = this.queue.then(async () => {
      const reply = await exchange<PacerReply>(this.child, msg, 'pacer');
      if (!reply.ok) throw new Error(`pacer ${msg.cmd}: ${reply.error}`);
      return reply.result;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }
}

/** One message to a child (the pacer, the canary) and its one answer. */
function exchange<T = CanaryFigures>(
  child: ChildProcess,
  msg: PacerRequest | CanaryRequest,
  name = 'canary',
): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`${name} exited (${code}) during ${msg.cmd}`));
    child.once('exit', onExit);
    child.once('message', (reply: T) => {
      child.off('exit', onExit);
      resolve(reply);
    });
    child.send(msg);
  });
}

/** Asks a child to exit, and kills it after 10 s. */
async function stopChild(child: ChildProcess, msg: PacerRequest | CanaryRequest): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.send(msg);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
