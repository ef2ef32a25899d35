/**
 * The open-loop load generator as a process of its own (started by bench/lib/pacer.ts with
 * child_process.fork). It does nothing but send on schedule and time the answers, so its timers
 * are not delayed by the harness's other work (metering, Kafka admin, autocannon, result
 * bookkeeping): run inside the harness, the send lag's p99 was 14-16 ms; alone, about 1 ms.
 *
 * Messages from the parent, each answered with one message:
 *   { cmd: 'http', url, headers, clients, rate, sec }  → OpenLoopResult & { cpuSec }
 *   { cmd: 'chat-init', env, userContext }             → { ok: true }
 *   { cmd: 'chat', rate, sec }                          → OpenLoopResult & { cpuSec }
 *   { cmd: 'chat-close' }                               → { ok: true }
 * and { cmd: 'exit' } to close everything and exit.
 */
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { ChatRequestReply } from '../src/chat/request-reply';
import type { UserContext } from '../src/auth/types';
import { keepAliveGets, openLoop, type OpenLoopResult } from './lib/load';

export type PacerRequest =
  | { cmd: 'http'; url: string; headers: Record<string, string>; clients: number; rate: number; sec: number }
  | { cmd: 'chat-init'; env: Record<string, string>; userContext: UserContext }
  | { cmd: 'chat'; rate: number; sec: number }
  | { cmd: 'chat-close' }
  | { cmd: 'exit' };

export type PacerReply = { ok: true; result?: OpenLoopResult & { cpuSec: number } } | { ok: false; error: string };

let chat: { client: ChatRequestReply; userContext: UserContext } | undefined;

/** Runs `fn` and adds this process's CPU time (s) spent meanwhile. */
async function metered(fn: () => Promise<OpenLoopResult>): Promise<OpenLoopResult & { cpuSec: number }> {
  const cpu0 = process.cpuUsage();
  const result = await fn();
  const used = process.cpuUsage(cpu0);
  return { ...result, cpuSec: (used.user + used.system) / 1e6 };
}

async function handle(msg: PacerRequest): Promise<PacerReply> {
  switch (msg.cmd) {
    case 'http': {
      // Connections opened just before the run and closed after it (a server closes idle ones
      // between runs, and a reconnect would count in the latency).
      const connections = keepAliveGets(msg.url, msg.headers, msg.clients);
      try {
        await connections.open();
        return { ok: true, result: await metered(() => openLoop(connections.get, msg.rate, msg.sec * 1000)) };
      } finally {
        await connections.close();
      }
    }
    case 'chat-init': {
      const client = new ChatRequestReply({
        config: loadConfig(msg.env),
        logger: createLogger('silent'),
        role: 'bench',
      });
      await client.whenReady(30_000);
      chat = { client, userContext: msg.userContext };
      return { ok: true };
    }
    case 'chat': {
      const c = chat;
      if (!c) throw new Error('chat-init first');
      const task = () =>
        c.client.request('chat_get_conversations', {}, { userContext: c.userContext }).then(() => undefined);
      return { ok: true, result: await metered(() => openLoop(task, msg.rate, msg.sec * 1000)) };
    }
    case 'chat-close': {
      await chat?.client.close();
      chat = undefined;
      return { ok: true };
    }
    case 'exit':
      await chat?.client.close();
      process.exit(0);
  }
}

process.on('message', (msg: PacerRequest) => {
  handle(msg).then(
    (reply) => process.send!(reply),
    (err: unknown) => process.send!({ ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
