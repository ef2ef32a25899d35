/**
 * The local stack for tests: config, workers, processes, databases and waiting.
 *
 *   const config = testConfig({ TEMPORAL_TASK_QUEUE: q });  // the stack's settings + overrides
 *   const worker = await startWorker(config);              // in-process worker on config's queue; worker.stop()
 *   const child = await spawnWorker(env);                   // the built worker entrypoint, killable
 *   await stopProcess(child, 'SIGKILL');
 *   const db = await ownDatabase('relay');                  // db.url (migrated), db.drop() in afterAll
 *   await waitFor('the row', async () => (await rows()).length > 0);
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { DestinationStream } from 'pino';
import { loadConfig, type Config } from '../../src/config';
import type { GatewayWorker } from '../../src/workers/worker';

export const ROOT = join(__dirname, '..', '..');
const run = promisify(execFile);

/** A config for tests: the stack's connection settings, quiet logs, and any overrides. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  // No load shedding on event-loop lag: tests bundle workflows for in-process workers, which stalls
  // the loop for seconds; conformance.test.ts turns shedding on where it is the subject.
  return loadConfig({
    ...process.env,
    LOG_LEVEL: 'silent',
    NODE_ENV: 'test',
    LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
    ...overrides,
  });
}

/** Stops/starts one service of the local stack (fault tests), keeping its data. */
export async function stackService(
  action: 'stop' | 'start',
  service: 'postgres' | 'kafka' | 'temporal',
): Promise<void> {
  await run('bash', [join(ROOT, 'scripts', 'stack.sh'), action, service], { timeout: 180_000 });
}

export interface RunningWorker extends GatewayWorker {
  /** Drains the worker and closes its connections; safe to call twice. */
  stop(): Promise<void>;
}

/** An in-process gateway worker polling `config.TEMPORAL_TASK_QUEUE` (silent unless given a log). */
export async function startWorker(config: Config, log?: DestinationStream): Promise<RunningWorker> {
  // Loaded on use: most test files never start a worker and need not load the Temporal worker.
  const { createWorker } = await import('../../src/workers/worker');
  const { createLogger } = await import('../../src/logger');
  const worker = await createWorker(config, createLogger(log ? config.LOG_LEVEL : 'silent', {}, log));
  const running = worker.worker.run();
  let stopped: Promise<void> | undefined;
  return {
    ...worker,
    stop() {
      stopped ??= (async () => {
        if (worker.worker.getState() === 'RUNNING') worker.worker.shutdown();
        await running;
        await worker.close();
      })();
      return stopped;
    },
  };
}

/**
 * A built entrypoint (`script`, under dist) in a process of its own; resolves with what it printed
 * once its stdout shows `ready` (within 30 s), or rejects with its output if it exits first.
 */
export async function spawnNode(
  what: string,
  script: string,
  env: Record<string, string>,
  ready: string,
): Promise<{ child: ChildProcess; printed: string }> {
  const child = spawn(process.execPath, [script], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const printed = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${output}`)), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (output.includes(ready)) {
        clearTimeout(timer);
        resolve(output);
      }
    });
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}: ${output}`)));
  });
  child.stdout.resume();
  return { child, printed };
}

/** The real worker entrypoint (dist), as operators run it, so it can be SIGKILLed. */
export async function spawnWorker(env: Record<string, string>): Promise<ChildProcess> {
  const script = join(ROOT, 'dist', 'src', 'workers', 'main.js');
  return (await spawnNode('worker', script, env, 'worker started')).child;
}

/** Sends `signal` to a child process and waits for its exit (at once if it has exited). */
export function stopProcess(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** A loopback port that was free a moment ago, for a process that must be told its port. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

/** Resident set of a process (VmRSS) and its peak (VmHWM), in bytes. */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/**
 * A migrated database of its own (same server), so that no relay of another test file or process
 * sees its rows; `url` is its DATABASE_URL.
 */
export async function ownDatabase(prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const { initOrm, migrate } = await import('../../src/db/orm');
  const name = `${prefix}_${uniqueSuffix().replace(/-/g, '_')}`;
  const onBase = async (sql: string) => {
    const orm = await initOrm(testConfig());
    try {
      await orm.em.getConnection().execute(sql);
    } finally {
      await orm.close(true);
    }
  };
  await onBase(`create database ${name}`);
  const url = new URL(testConfig().DATABASE_URL);
  url.pathname = `/${name}`;
  const orm = await initOrm(testConfig({ DATABASE_URL: url.toString() }));
  try {
    await migrate(orm);
  } finally {
    await orm.close(true);
  }
  return { url: url.toString(), drop: () => onBase(`drop database if exists ${name} with (force)`) };
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}${lastError instanceof Error ? `: ${lastError.message}` : ''}`);
}

export const uniqueSuffix = () => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
