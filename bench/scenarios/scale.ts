import type { Markdown } from '../lib/markdown';
import { compare, meGet, pick } from '../lib/measure';
import { P } from '../lib/params';
import { childrenOf, stop } from '../lib/procs';
import { cpuOf, cpuPerRequest, figure, peakRss, roundRatio, withRuns, type Runs } from '../lib/results';
import type { Scenario } from '../lib/scenario';
import { fmt } from '../lib/stats';
import { startFloor, startGateway, type World } from '../lib/world';

/**
 * Several gateway processes behind node:cluster (bench/cluster.ts) against the static upstream,
 * beside one process in the same rounds: CPU per request should stay within 10 % of one
 * process's (nothing shared that serialises them). The floor runs the same way in the same
 * rounds, so the cost the machine adds to any Node proxy split over processes (wrk, the upstream
 * and N event loops on 2 cores) is told apart from what the gateway's processes share.
 */
async function run(w: World) {
  const floor = await startFloor(w.staticEnv);
  try {
    for (const processes of P.scale) await runCount(w, floor, processes);
  } finally {
    await stop(floor.proc);
  }
}

async function runCount(w: World, floor: Awaited<ReturnType<typeof startFloor>>, processes: number) {
  const { proc, url } = await startGateway(w.staticEnv, `gateway-x${processes}`, { processes });
  const floors = await startFloor(w.staticEnv, { processes }).catch(async (err: unknown) => {
    await stop(proc);
    throw err;
  });
  try {
    // The single process compared with has served every earlier scenario; fresh processes are still
    // compiling and sizing their heaps. So each group first serves load for one run's length per
    // process, about one measured run's requests per process (bench-mxcyhgcl's x2 went 1.17×,
    // 1.10×, 1.02× over its three rounds without it: the warm-up, not anything the processes share).
    const fresh = { clients: P.directConc, sec: P.directSec * processes };
    await compare(w, {
      scenario: 'scale',
      variants: [
        {
          variant: `gateway, beside x${processes}`,
          load: meGet(w.gatewayStaticUrl, w.user.token),
          gatewayPids: () => [w.gatewayStatic.pid],
        },
        {
          variant: `gateway x${processes}`,
          load: meGet(url, w.user.token),
          gatewayPids: () => [proc.pid, ...childrenOf(proc.pid)],
          warm: fresh,
        },
        {
          variant: `floor, beside x${processes}`,
          load: meGet(floor.url, w.user.token),
          gatewayPids: () => [floor.proc.pid],
        },
        {
          variant: `floor x${processes}`,
          load: meGet(floors.url, w.user.token),
          gatewayPids: () => [floors.proc.pid, ...childrenOf(floors.proc.pid)],
          warm: fresh,
        },
      ],
      points: [{ clients: P.directConc, sec: P.directSec }],
      warm: { clients: P.directConc, sec: P.warmSec },
    });
  } finally {
    await stop(proc);
    await stop(floors.proc);
  }
}

function report(md: Markdown) {
  md.line(
    `### 1c. Several gateway processes (node:cluster), GET /v1/client/me from the static upstream, ${P.directConc} connections`,
  );
  md.line();
  const perReq = (r: { cpu: Record<string, number>; rps: number }) => (r.cpu.gateway ?? NaN) / r.rps;
  type Row = Runs & { one: Runs['rs'] };
  const rowsOf = (kind: 'gateway' | 'floor', n: number): Row[] => {
    const one = pick('scale', `${kind}, beside x${n}`);
    return withRuns([`${kind}, beside x${n}`, `${kind} x${n}`], (v) => pick('scale', v)).map((r) => ({ ...r, one }));
  };
  const rows = P.scale.flatMap((n) => [...rowsOf('gateway', n), ...rowsOf('floor', n)]);
  const ratio = ({ rs, one }: Row) => roundRatio(rs, one, perReq);
  md.table<Row>(
    [
      ['processes', ({ name }) => name],
      ['req/s', ({ rs }) => figure(rs, 'rps', 0)],
      ['CPU (all processes)', ({ rs }) => cpuOf(rs, 'gateway')],
      ['CPU per request µs', ({ rs }) => cpuPerRequest(rs, 'gateway')],
      ['CPU per request / one process', (r) => (r.name.includes(', beside') ? '–' : `${fmt(ratio(r), 2)}×`)],
      ['peak RSS MB (largest process)', ({ rs }) => peakRss(rs)],
    ],
    rows,
  );
  md.line();
  for (const n of P.scale) {
    const [gw, fl] = [rowsOf('gateway', n)[1], rowsOf('floor', n)[1]];
    if (!gw || !fl) continue;
    md.line(
      `- x${n}: the gateway's CPU per request grows ${fmt(ratio(gw), 2)}× and the floor's ${fmt(ratio(fl), 2)}× over one process (what the machine adds to any proxy split over processes); gateway ÷ floor: ${fmt(ratio(gw) / ratio(fl), 2)}×`,
    );
  }
  md.line("- target: CPU per request within 10 % of one process's.");
  md.line();
}

export const scale: Scenario = { name: 'scale', run, report };
