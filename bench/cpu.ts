/**
 * CPU per answered `GET /v1/client/me` of the gateway and of the floor (bench/floor.ts), both in
 * front of the static responder, without the full benchmark: closed-loop load at keep-alive
 * connections (wrk for `--sec` seconds per run when installed, else autocannon for `--requests`),
 * each process's user + system CPU (and its system share and read/write syscalls) read from /proc
 * before and after, in interleaved rounds whose order rotates. CPU time per request holds up on a
 * busy machine far better than req/s does; the ratio is taken within each round, then the median.
 *
 *   bash bench/cpu.sh [--sec=3] [--requests=20000] [--connections=50] [--rounds=3] [--profile] [--baseline=DIR]
 *
 * `--baseline=DIR`: a third row, a gateway started from another build's output (DIR/src/api/server.js,
 * e.g. a copy of `dist` built from main, kept inside the repository so it finds node_modules).
 * `--baseline-node-args='--flag …'`: node flags of the baseline gateway only (e.g. a V8 memory flag
 * tried on the same build: `--baseline=dist`); `--baseline-env=K=V,K=V`: its environment over the image's;
 * repeated, one baseline gateway per value (an ablation: each setting beside the same build, same rounds).
 * `--profile`: afterwards, one more gateway under `node --cpu-prof` for one run; its top frames.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { httpLoad } from './lib/load';
import { wrkGet, wrkVersion } from './lib/wrk';
import { arg } from './lib/args';
import { envPairs } from './lib/runtime';
import { DIR, RUN_ID, say } from './lib/params';
import { cpuSeconds, kernelUse, peakRssMb, rssMb, v8WorkerSeconds, type Proc } from './lib/procs';
import { profileGateway } from './lib/profiled-gateway';
import { fmt, median } from './lib/stats';
import { fakeUser, setUpBase, startFloor, startGateway, startStaticUpstream, tearDown, type World } from './lib/world';

const REQUESTS = Number(arg('requests', '20000'));
const CONNECTIONS = Number(arg('connections', '50'));
const ROUNDS = Number(arg('rounds', '3'));
const BASELINE = arg('baseline', '');
const BASELINE_NODE_ARGS = arg('baseline-node-args', '').split(' ').filter(Boolean);
// `--baseline-env` may repeat: one baseline gateway per value, all in the same rounds.
const BASELINE_ENVS = process.argv.filter((a) => a.startsWith('--baseline-env=')).map((a) => a.slice(15));
const PROFILE = process.argv.includes('--profile');

interface Target {
  name: string;
  url: string;
  proc: Proc;
}

interface Run {
  round: number;
  name: string;
  usPerRequest: number;
  /** Of usPerRequest, the kernel's share (system time). */
  sysUsPerRequest: number;
  /** Of usPerRequest, V8's worker threads' share (concurrent marking, parallel scavenging). */
  v8UsPerRequest: number;
  /** read and write syscalls per answered request. */
  readsPerRequest: number;
  writesPerRequest: number;
  rps: number;
  failed: number;
}

// wrk (a C load generator in its own process) when installed, for `--sec` seconds: autocannon runs
// in this process and on this machine's 2 cores it capped the floor near 10k req/s, so every
// target's CPU per request included how the harness's event loop batched its requests.
const WRK = wrkVersion() !== undefined && !process.argv.includes('--autocannon');
const SEC = Number(arg('sec', '3'));
const load = (url: string, token: string, amount: number) =>
  WRK
    ? wrkGet(
        `${url}/v1/client/me`,
        { authorization: `Bearer ${token}` },
        CONNECTIONS,
        Math.max(1, Math.round((SEC * amount) / REQUESTS)),
      )
    : httpLoad({
        url: `${url}/v1/client/me`,
        headers: { authorization: `Bearer ${token}` },
        connections: CONNECTIONS,
        durationSec: 0,
        amount,
      });

async function measure(t: Target, token: string, round: number): Promise<Run> {
  const cpu0 = cpuSeconds(t.proc.pid);
  const k0 = kernelUse(t.proc.pid);
  const v0 = v8WorkerSeconds(t.proc.pid);
  const r = await load(t.url, token, REQUESTS);
  const cpu = cpuSeconds(t.proc.pid) - cpu0;
  const k1 = kernelUse(t.proc.pid);
  const v8 = v8WorkerSeconds(t.proc.pid) - v0;
  const per = (x: number) => x / Math.max(1, r.ok);
  const run = {
    round,
    name: t.name,
    usPerRequest: per(cpu * 1e6),
    sysUsPerRequest: per((k1.systemSeconds - k0.systemSeconds) * 1e6),
    v8UsPerRequest: per(v8 * 1e6),
    readsPerRequest: per(k1.reads - k0.reads),
    writesPerRequest: per(k1.writes - k0.writes),
    rps: r.rps,
    failed: r.failed,
  };
  // Peak RSS since start (VmHWM, not reset): the warm-up and every earlier round included.
  const rss = `RSS ${fmt(rssMb(t.proc.pid), 0)} MB, peak ${fmt(peakRssMb(t.proc.pid), 0)} MB`;
  say(
    `r${round} ${t.name}: ${fmt(run.usPerRequest, 1)} µs CPU per request (${fmt(run.sysUsPerRequest, 1)} system, ` +
      `${fmt(run.v8UsPerRequest, 1)} V8 worker threads), ` +
      `${fmt(run.readsPerRequest, 2)} reads + ${fmt(run.writesPerRequest, 2)} writes, ${fmt(r.rps, 0)} req/s, ${r.failed} failed, ${rss}`,
  );
  return run;
}

/** CPU the process uses with no load at all (timers, samplers), in cores, once the last load has settled. */
async function idleCores(proc: Proc, ms = 6_000): Promise<number> {
  await sleep(3_000);
  const cpu0 = cpuSeconds(proc.pid);
  await sleep(ms);
  return (cpuSeconds(proc.pid) - cpu0) / (ms / 1000);
}

function report(runs: Run[], names: string[]) {
  const lines = [
    '| process | µs CPU per request (median) | each round | of which system | of which V8 worker threads | syscalls: reads + writes | req/s (median) |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const name of names) {
    const mine = runs.filter((r) => r.name === name);
    const us = mine.map((r) => r.usPerRequest);
    lines.push(
      `| ${name} | ${fmt(median(us), 1)} | ${us.map((u) => fmt(u, 1)).join(', ')} | ${fmt(median(mine.map((r) => r.sysUsPerRequest)), 1)} | ` +
        `${fmt(median(mine.map((r) => r.v8UsPerRequest)), 1)} | ` +
        `${fmt(median(mine.map((r) => r.readsPerRequest)), 2)} + ${fmt(median(mine.map((r) => r.writesPerRequest)), 2)} | ${fmt(median(mine.map((r) => r.rps)), 0)} |`,
    );
  }
  const pairs = names.filter((n) => n !== 'floor').map((n) => [n, 'floor']);
  for (const n of names.filter((x) => x.startsWith('baseline'))) pairs.push(['gateway', n]);
  for (const [name, reference] of pairs) {
    const ratios = [...new Set(runs.map((r) => r.round))].map((round) => {
      const of = (n: string) => runs.find((r) => r.round === round && r.name === n)!.usPerRequest;
      return of(name!) / of(reference!);
    });
    lines.push(
      `| ${name} / ${reference} | ${fmt(median(ratios), 2)}× | ${ratios.map((x) => fmt(x, 2)).join(', ')} | | | | |`,
    );
  }
  process.stdout.write(`\n${lines.join('\n')}\n\n`);
}

async function profile(w: World) {
  const requests = (n: number) => (url: string) => load(url, w.user.token, n);
  const s = await profileGateway(w.staticEnv, requests(REQUESTS / 4), requests(REQUESTS), 200);
  say(`cpu profile: ${fmt(s.idlePct, 0)} % idle`);
  const rows = [
    ...s.top.map((f) => `${fmt(f.selfPct, 1)} %  ${f.frame}  ${f.where}`),
    '',
    ...s.byPackage.map((f) => `${fmt(f.selfPct, 1)} %  ${f.frame}`),
  ];
  process.stdout.write(`${rows.join('\n')}\n`);
}

async function main() {
  const each = WRK ? `${SEC} s of wrk` : `${REQUESTS} requests (autocannon)`;
  say(`run ${RUN_ID}: ${ROUNDS} rounds of ${each} at ${CONNECTIONS} connections; logs in ${DIR}`);
  const w: Partial<World> = {};
  try {
    await setUpBase(w);
    w.user = await fakeUser(w as World, 'cpu');
    await startStaticUpstream(w);
    // No chat fake here: its readiness probe gives up in time for the supervisor's 2 s wait.
    w.staticEnv = { ...w.staticEnv!, HEALTH_CHECK_TIMEOUT_MS: '500' };
    const world = w as World;
    const floor = await startFloor(world.staticEnv);
    const targets: Target[] = [{ name: 'floor', url: floor.url, proc: floor.proc }];
    const gw = await startGateway(world.staticEnv, 'gateway');
    targets.push({ name: 'gateway', url: gw.url, proc: gw.proc });
    if (BASELINE)
      for (const [i, env] of (BASELINE_ENVS.length ? BASELINE_ENVS : ['']).entries()) {
        const base = await startGateway(world.staticEnv, `baseline${i || ''}`, {
          dist: BASELINE,
          nodeArgs: BASELINE_NODE_ARGS,
          env: envPairs(env),
        });
        const name = BASELINE_ENVS.length > 1 ? `baseline ${env}` : 'baseline gateway';
        targets.push({ name, url: base.url, proc: base.proc });
      }
    for (const t of targets) await load(t.url, world.user.token, REQUESTS / 4); // warm-up (JIT, connections)
    for (const t of targets) say(`${t.name}: idle ${fmt((await idleCores(t.proc)) * 1000, 1)} ms CPU per s`);
    const runs: Run[] = [];
    // Each round starts one target later: the one that runs right after another loses or gains
    // from how the machine settles, and that is no target's own cost.
    for (let round = 1; round <= ROUNDS; round++)
      for (let i = 0; i < targets.length; i++)
        runs.push(await measure(targets[(i + round - 1) % targets.length]!, world.user.token, round));
    report(
      runs,
      targets.map((t) => t.name),
    );
    if (PROFILE) await profile(world);
  } catch (err) {
    say(`FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  } finally {
    await tearDown(w);
  }
}

void main();
