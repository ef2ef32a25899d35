import { spawn, spawnSync } from 'node:child_process';
import { cpuSeconds } from './procs';
import type { LoadResult } from './load';

/** `wrk --version`'s first line, or undefined when wrk is not installed (bench/run.sh installs it). */
export function wrkVersion(): string | undefined {
  const res = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  if (res.error) return undefined;
  return /wrk \S+/.exec(`${res.stdout}${res.stderr}`)?.[0];
}

/** Milliseconds from wrk's "1.25ms" / "850.00us" / "1.02s". */
function ms(value: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(value);
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}

/** The figures of wrk's `--latency` report. Exported for its unit test. */
export function parseWrk(out: string): Omit<LoadResult, 'statuses'> & { total: number } {
  const pct = (p: number) => ms(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out)?.[1] ?? '');
  const total = Number(/(\d+) requests in ([\d.]+)(\w+)/.exec(out)?.[1] ?? NaN);
  const dur = /\d+ requests in ([\d.]+\w+)/.exec(out)?.[1];
  const seconds = dur ? ms(dur) / 1000 : NaN;
  const failed = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = sock ? sock.slice(1).reduce((a, x) => a + Number(x), 0) : 0;
  const ok = total - failed;
  const max = ms(/Latency\s+\S+\s+\S+\s+(\S+)/.exec(out)?.[1] ?? '');
  return {
    n: ok,
    p50: pct(50),
    p90: pct(90),
    p99: pct(99),
    max,
    rps: ok / seconds,
    ok,
    failed,
    errors,
    seconds,
    total,
  };
}

/**
 * One closed-loop run of wrk (one thread, `connections` keep-alive connections) in a process of its
 * own: the load generator is C and does not share the harness's event loop, so "upstream alone"
 * shows what the upstream can do. `cpuSec` is wrk's CPU time, sampled from /proc until it exits.
 */
export async function wrkGet(
  url: string,
  headers: Record<string, string>,
  connections: number,
  sec: number,
): Promise<LoadResult & { cpuSec: number }> {
  const args = ['-t1', `-c${connections}`, `-d${sec}s`, '--timeout', '20s', '--latency'];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  const child = spawn('wrk', [...args, url], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  let cpuSec = 0;
  const timer = setInterval(() => {
    if (child.pid) cpuSec = Math.max(cpuSec, cpuSeconds(child.pid));
  }, 100);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearInterval(timer);
  if (code !== 0) throw new Error(`wrk exited with ${code}: ${out.slice(-500)}`);
  const r = parseWrk(out);
  if (!Number.isFinite(r.rps)) throw new Error(`could not read wrk's report: ${out.slice(-500)}`);
  const { total: _total, ...rest } = r;
  return { ...rest, statuses: { '2xx': r.ok, other: r.failed }, cpuSec };
}
