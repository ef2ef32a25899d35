import { closedLoop, httpLoad, type LoopResult, type OpenLoopResult } from './load';
import { wrkGet, wrkVersion } from './wrk';
import { P, say } from './params';
import { Pacer, type PacedResult } from './pacer';
import { GroupMeter, childrenOf, machineCpu } from './procs';
import { pick as pickFrom, type Measurement } from './results';
import { interleavedRounds, type LoadPoint, type Plan, type RunLabel, type RunResult } from './rounds';
import { fmt } from './stats';
import { stackPids } from './runtime';
import { kafkaPauses, loopMaxMs, resetLoopDelay } from './stalls';
import type { World } from './world';

/** The closed-loop load generator: wrk when installed. */
export const WRK = wrkVersion();

/** Every recorded run of this benchmark (results.json). */
export const results: Measurement[] = [];

export const pick = (scenario: string, variant: string, c?: number, rate?: number) =>
  pickFrom(results, scenario, variant, c, rate);

/** The process groups metered around every run; a variant may name its own gateway or worker pids. */
function meters(w: World, m: RunLabel): Record<string, GroupMeter> {
  const withChildren = (pid: number) => [pid, ...childrenOf(pid)];
  // Each group's pids are read once per run: looking them up on every 100 ms RSS sample (an `ss`
  // child process for PostgreSQL) blocked the harness's event loop, where autocannon runs.
  const fixed = (pids: number[]) => () => pids;
  const stack = stackPids();
  return {
    gateway: new GroupMeter(fixed((m.gatewayPids ?? (() => [w.gateway.pid]))())),
    worker: new GroupMeter(fixed((m.workerPids ?? (() => [w.worker.pid]))())),
    authFake: new GroupMeter(fixed([w.authFake.pid])),
    upstream: new GroupMeter(fixed(withChildren(w.upstream.pid))),
    chatFake: new GroupMeter(fixed([w.chatFake.pid])),
    nginx: new GroupMeter(fixed([...withChildren(w.nginx.pid), ...withChildren(w.nginxStatic.pid)])),
    postgres: new GroupMeter(fixed(stack.postgres)),
    kafka: new GroupMeter(fixed(stack.kafka)),
    temporal: new GroupMeter(fixed(stack.temporal)),
  };
}

/**
 * Runs `fn` with CPU (cores) and RSS metered for every process group, then records it with what
 * paused during it (stalls.ts: the local Kafka's GC pauses, the shared gateway's event-loop delay;
 * the gateway's and the chat fake's run-queue waits).
 */
async function measured<T extends RunResult>(
  w: World,
  m: RunLabel,
  fn: () => Promise<T>,
  extra?: (r: T) => Record<string, number>,
) {
  const groups = meters(w, m);
  if (!m.gatewayPids) await resetLoopDelay(w.gatewayAdminUrl);
  const wall0 = Date.now();
  for (const meter of Object.values(groups)) meter.begin();
  const cpu0 = process.cpuUsage();
  const machine0 = machineCpu();
  const t0 = performance.now();
  const r = await fn();
  const seconds = (performance.now() - t0) / 1000;
  const wall1 = Date.now();
  const used = process.cpuUsage(cpu0);
  const machine1 = machineCpu();
  const { cpu, waits, rss } = endMeters(groups);
  // The harness itself, plus the pacer process when it ran the load (it reports its own CPU time).
  cpu.loadgen = ((used.user + used.system) / 1e6 + ((r as { cpuSec?: number }).cpuSec ?? 0)) / seconds;
  cpu.stack = cpu.postgres! + cpu.kafka! + cpu.temporal!;
  cpu.machine = (machine1.busy - machine0.busy) / seconds;
  // Everything else on the machine (other users' tests, their stacks): what our numbers competed with.
  const ours = ['gateway', 'worker', 'authFake', 'upstream', 'chatFake', 'nginx', 'stack', 'loadgen'];
  cpu.other = Math.max(0, cpu.machine - ours.reduce((a, k) => a + (cpu[k] ?? 0), 0));
  const { gatewayPids: _g, workerPids: _w, ...label } = m;
  const rec: Measurement = {
    ...label,
    rps: r.rps,
    p50: r.p50,
    p90: r.p90,
    p99: r.p99,
    n: r.n,
    failed: r.failed,
    cpu,
    gatewayPeakRssMb: rss.peakRssMb,
    gatewayPeakRssSumMb: rss.peakRssSumMb,
    extra: { ...extra?.(r), ...kafkaPauses(wall0, wall1), ...waits },
  };
  if (!m.gatewayPids) rec.extra = { ...rec.extra, ...(await heapOf(w.gatewayAdminUrl)) };
  results.push(rec);
  sayRun(m, r, cpu, rss.peakRssMb);
  return r;
}

/** Every group's CPU (cores); the gateway's and the chat fake's run-queue waits; the gateway's peak RSS. */
function endMeters(groups: Record<string, GroupMeter>) {
  const cpu: Record<string, number> = {};
  const waits: Record<string, number> = {};
  let rss = { peakRssMb: 0, peakRssSumMb: 0 };
  for (const [name, meter] of Object.entries(groups)) {
    const e = meter.end();
    cpu[name] = e.cores;
    if (name === 'gateway') rss = e;
    if ((name === 'gateway' || name === 'chatFake') && e.waitMs !== undefined) {
      waits[`${name}RunWaitMs`] = e.waitMs;
      if (e.waitPerSliceUs !== undefined) waits[`${name}RunWaitPerSliceUs`] = e.waitPerSliceUs;
    }
  }
  return { cpu, waits, rss };
}

/** One line of progress per run. */
function sayRun(m: RunLabel, r: RunResult, cpu: Record<string, number>, peakRssMb: number) {
  const at = m.rate === undefined ? '' : ` @${m.rate}/s`;
  say(
    `${m.scenario}/${m.variant} c=${m.concurrency}${at} r${m.round}: ${fmt(r.rps, 0)}/s p50 ${fmt(r.p50, 2)} p99 ${fmt(r.p99, 2)} ms` +
      `${r.failed ? ` FAILED ${r.failed}` : ''} | cpu gw ${fmt(cpu.gateway!, 2)} lg ${fmt(cpu.loadgen!, 2)} all ${fmt(cpu.machine!, 2)} other ${fmt(cpu.other!, 2)} | rss ${fmt(peakRssMb, 0)} MB`,
  );
  if (r.failed > Math.max(5, r.n * 0.005)) say(`  WARNING: ${r.failed} failed requests (${JSON.stringify(r)})`);
}

/** A gateway's garbage collection so far (prom-client's nodejs_gc_duration_seconds): pause ms in all, and pauses over 1 ms. */
export async function gcOf(adminUrl: string): Promise<{ ms: number; over1ms: number }> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const sum = (re: RegExp) => [...text.matchAll(re)].reduce((a, m) => a + Number(m[1]), 0);
  const count = sum(/^nodejs_gc_duration_seconds_count\{[^}]*\} (\S+)$/gm);
  const under1ms = sum(/^nodejs_gc_duration_seconds_bucket\{le="0\.001"[^}]*\} (\S+)$/gm);
  return { ms: sum(/^nodejs_gc_duration_seconds_sum\{[^}]*\} (\S+)$/gm) * 1000, over1ms: count - under1ms };
}

/**
 * V8 heap of the (single) gateway right after a run, to tell live data from reserved memory, and its
 * longest event-loop delay during the run.
 */
async function heapOf(adminUrl: string): Promise<Record<string, number>> {
  try {
    const text = await (await fetch(`${adminUrl}/metrics`)).text();
    const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN) / 2 ** 20;
    return {
      heapUsedMb: metric('nodejs_heap_size_used_bytes'),
      heapTotalMb: metric('nodejs_heap_size_total_bytes'),
      ...loopMaxMs(text),
    };
  } catch {
    return {};
  }
}

/** Runs a scenario's plan (warm-up, then interleaved rounds), every run metered and recorded. */
export const compare = (w: World, plan: Omit<Plan, 'rounds'>) =>
  interleavedRounds({ rounds: P.rounds, ...plan }, (label, load, extra) => measured(w, label, load, extra));

/** `task` in a closed loop with the point's clients for the point's duration. */
export const closedLoopAt =
  (task: (worker: number) => Promise<void>) =>
  (at: LoadPoint): Promise<LoopResult> =>
    closedLoop(task, at.clients, at.sec * 1000);

/** The figures an open-loop run keeps beside its latencies (and the idle canary's, when the pacer ran it). */
export const openLoopExtra = (r: OpenLoopResult & { idle?: PacedResult['idle'] }) => ({
  offered: r.offered,
  sendLagP50: r.lag.p50,
  sendLagP99: r.lag.p99,
  ...(r.idle ? { idleLateP99: r.idle.p99, idleLateMax: r.idle.max } : {}),
});

let pacerProcess: Pacer | undefined;
/** The load-generator process of open loops (bench/pacer.ts), started on first use. */
export const pacer = () => (pacerProcess ??= Pacer.start());
export const closePacer = async () => pacerProcess?.close().catch(() => undefined);

/**
 * GET `url` with a bearer token in an open loop at the point's rate over the point's clients as
 * keep-alive connections: request i at i / rate s on connection i mod clients, sent by the pacer
 * process, which opens the connections just before the run and closes them after it.
 */
export const pacedGet =
  (url: string, token: string) =>
  (at: LoadPoint): Promise<PacedResult> => {
    if (at.rate === undefined) throw new Error('an open loop needs a rate');
    return pacer().http(url, { authorization: `Bearer ${token}` }, { clients: at.clients, rate: at.rate, sec: at.sec });
  };

/**
 * GET `url` with a bearer token: a closed loop through wrk in its own process when it is installed
 * (bench/run.sh installs it), else autocannon; autocannon's overallRate when the point has a rate.
 */
export const loadGet = (url: string, token: string) => (at: LoadPoint) =>
  at.rate === undefined && WRK
    ? wrkGet(url, { authorization: `Bearer ${token}` }, at.clients, at.sec)
    : httpLoad({
        url,
        headers: { authorization: `Bearer ${token}` },
        connections: at.clients,
        durationSec: at.sec,
        overallRate: at.rate,
      });

export const meGet = (url: string, token: string) => loadGet(`${url}/v1/client/me`, token);
