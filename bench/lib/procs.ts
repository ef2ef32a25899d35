import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync, readdirSync, writeFileSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const CLK_TCK = 100; // USER_HZ on Linux

export interface Proc {
  name: string;
  pid: number;
  child: ChildProcess;
  log: string;
  exited: Promise<number | null>;
}

const running = new Set<Proc>();

/** A free TCP port on 127.0.0.1 (asks the kernel, then releases it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Starts a process with its output in `<dir>/<name>.log`; every process started here is stopped by `stopAll`. */
export function start(
  dir: string,
  name: string,
  command: string,
  args: string[],
  env: Record<string, string | undefined>,
): Proc {
  const log = join(dir, `${name}.log`);
  const fd = openSync(log, 'a');
  const child = spawn(command, args, { env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const proc: Proc = { name, pid: child.pid, child, log, exited };
  running.add(proc);
  void exited.then(() => running.delete(proc));
  return proc;
}

export function alive(proc: Proc): boolean {
  return running.has(proc);
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export async function stop(proc: Proc, graceMs = 8_000): Promise<void> {
  if (!running.has(proc)) return;
  try {
    process.kill(proc.pid, 'SIGTERM');
  } catch {
    return;
  }
  const done = await Promise.race([proc.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!done) {
    try {
      process.kill(proc.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    await proc.exited;
  }
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].reverse().map((p) => stop(p)));
}

/** SIGKILLs every process still running, synchronously (for an `exit` handler: none outlives the harness). */
export function killAllNow(): void {
  for (const p of running) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

export function tail(proc: Proc, lines = 20): string {
  try {
    return readFileSync(proc.log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Waits until `check` resolves true, failing early if the process died. */
export async function waitFor(proc: Proc, what: string, check: () => Promise<boolean>, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!running.has(proc)) throw new Error(`${proc.name} exited while waiting for ${what}:\n${tail(proc)}`);
    if (await check().catch(() => false)) return;
    await sleep(200);
  }
  throw new Error(`${proc.name}: timed out waiting for ${what}:\n${tail(proc)}`);
}

export async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await res.arrayBuffer();
  return res.status === 200;
}

/** Child pids of a process (e.g. the workers of a cluster primary). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The fields of /proc/<pid>/stat after the command name (utime is [11], stime [12]); [] once it is gone. */
function statFields(pid: number): string[] {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return [];
  }
}

/** CPU seconds (user + system) a process has used so far; 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  const fields = statFields(pid);
  return fields.length ? (Number(fields[11]) + Number(fields[12])) / CLK_TCK : 0;
}

/**
 * How long the process's main thread has waited so far on a run queue, runnable but not running
 * (ms), and how many times it has been scheduled: /proc/<pid>/schedstat. On two cores shared by
 * every process of a benchmark, this is the latency the scheduler adds to the thread that serves
 * requests.
 */
export function runQueueWait(pid: number): { ms: number; slices: number } | undefined {
  try {
    const [, delayNs, slices] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    return delayNs === undefined || slices === undefined ? undefined : { ms: delayNs / 1e6, slices };
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds so far of the process's V8 worker threads (concurrent marking, parallel scavenging,
 * background compilation): beside the main thread's, what garbage collection costs. Threads are
 * read from /proc/<pid>/task by name ("V8Worker").
 */
export function v8WorkerSeconds(pid: number): number {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  let ticks = 0;
  for (const tid of tasks) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      if (!stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).startsWith('V8')) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return ticks / CLK_TCK;
}

/** System CPU seconds (kernel time: syscalls, loopback network work) and the read/write syscall counts so far. */
export function kernelUse(pid: number): { systemSeconds: number; reads: number; writes: number } {
  const fields = statFields(pid);
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    const count = (name: string) => Number(new RegExp(`^${name}: (\\d+)`, 'm').exec(io)?.[1] ?? 0);
    return {
      systemSeconds: fields.length ? Number(fields[12]) / CLK_TCK : 0,
      reads: count('syscr'),
      writes: count('syscw'),
    };
  } catch {
    return { systemSeconds: 0, reads: 0, writes: 0 };
  }
}

function statusKb(pid: number, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export const rssMb = (pid: number) => statusKb(pid, 'VmRSS') / 1024;
export const peakRssMb = (pid: number) => statusKb(pid, 'VmHWM') / 1024;

/** Resets VmHWM (the kernel's peak-RSS counter) of one of our own processes. */
export function resetPeakRss(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    /* older kernels: the sampled maximum still counts */
  }
}

/** Busy and total CPU seconds of the whole machine (all cores), from /proc/stat. */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = v[3]! + v[4]!;
  return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
}

/**
 * Watches a group of processes over one measurement: CPU (cores used on average), peak RSS of
 * the largest process (VmHWM after a reset, and sampled VmRSS every 100 ms as a cross-check), the
 * sum of RSS over the group, and how long the main threads waited on a run queue.
 */
export class GroupMeter {
  private cpu0 = new Map<number, number>();
  private wait0 = new Map<number, { ms: number; slices: number } | undefined>();
  private t0 = 0;
  private peakSampled = 0;
  private peakSum = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly pids: () => number[]) {}

  begin(): void {
    this.t0 = performance.now();
    for (const pid of this.pids()) {
      this.cpu0.set(pid, cpuSeconds(pid));
      this.wait0.set(pid, runQueueWait(pid));
      resetPeakRss(pid);
    }
    this.peakSampled = 0;
    this.peakSum = 0;
    this.timer = setInterval(() => this.sample(), 100);
    this.timer.unref();
  }

  private sample(): void {
    let sum = 0;
    for (const pid of this.pids()) {
      const rss = rssMb(pid);
      sum += rss;
      this.peakSampled = Math.max(this.peakSampled, rss);
    }
    this.peakSum = Math.max(this.peakSum, sum);
  }

  /**
   * CPU (cores), peak RSS, and the main threads' run-queue wait over the run (ms, and per scheduling
   * in µs; undefined when a process's /proc/<pid>/schedstat could not be read at both ends).
   */
  end(): { cores: number; peakRssMb: number; peakRssSumMb: number; waitMs?: number; waitPerSliceUs?: number } {
    clearInterval(this.timer);
    this.sample();
    const seconds = (performance.now() - this.t0) / 1000;
    let cpu = 0;
    let hwm = 0;
    let waitMs: number | undefined = 0;
    let slices = 0;
    for (const pid of this.pids()) {
      cpu += cpuSeconds(pid) - (this.cpu0.get(pid) ?? cpuSeconds(pid));
      hwm = Math.max(hwm, peakRssMb(pid));
      const [before, after] = [this.wait0.get(pid), runQueueWait(pid)];
      if (!before || !after || waitMs === undefined) waitMs = undefined;
      else {
        waitMs += after.ms - before.ms;
        slices += after.slices - before.slices;
      }
    }
    return {
      cores: cpu / seconds,
      peakRssMb: Math.max(hwm, this.peakSampled),
      peakRssSumMb: this.peakSum,
      waitMs,
      waitPerSliceUs: waitMs === undefined || !slices ? undefined : (1000 * waitMs) / slices,
    };
  }
}
