import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { PacerReply, PacerRequest } from '../pacer';
import type { OpenLoopResult } from './load';

/** Figures of one open-loop run in the pacer process, with that process's CPU time. */
export type PacedResult = OpenLoopResult & { cpuSec: number };

/**
 * The parent's side of bench/pacer.ts: a separate load-generator process for open loops, asked
 * for one run at a time over IPC. The schedule and all timing happen in the child.
 */
export class Pacer {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly child: ChildProcess) {}

  static start(): Pacer {
    const child = fork(join(__dirname, '..', 'pacer.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new Pacer(child);
  }

  /** GET `url` at `rate`/s for `sec` over `clients` keep-alive connections opened for the run. */
  http(url: string, headers: Record<string, string>, at: { clients: number; rate: number; sec: number }) {
    return this.ask({ cmd: 'http', url, headers, ...at }) as Promise<PacedResult>;
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
    return this.ask({ cmd: 'chat', ...at }) as Promise<PacedResult>;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send({ cmd: 'exit' } satisfies PacerRequest);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  /** One request at a time: the child runs one loop at once. */
  private ask(msg: PacerRequest): Promise<PacedResult | undefined> {
    const next = this.queue.then(
      () =>
        new Promise<PacedResult | undefined>((resolve, reject) => {
          const onExit = (code: number | null) => reject(new Error(`pacer exited (${code}) during ${msg.cmd}`));
          this.child.once('exit', onExit);
          this.child.once('message', (reply: PacerReply) => {
            this.child.off('exit', onExit);
            if (reply.ok) resolve(reply.result);
            else reject(new Error(`pacer ${msg.cmd}: ${reply.error}`));
          });
          this.child.send(msg);
        }),
    );
    this.queue = next.catch(() => undefined);
    return next;
  }
}
