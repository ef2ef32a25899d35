import type { Markdown } from '../lib/markdown';
import { compare, meGet, pick } from '../lib/measure';
import { P } from '../lib/params';
import { childrenOf, stop } from '../lib/procs';
import { cpuOf, cpuPerRequest, figure, peakRss, roundRatio, withRuns, type Runs } from '../lib/results';
import type { Scenario } from '../lib/scenario';
import { fmt } from '../lib/stats';
import { startGateway, type World } from '../lib/world';

/**
 * Several gateway processes behind node:cluster (bench/cluster.ts) against the static upstream,
 * beside one process in the same rounds: CPU per request should stay within 10 % of one
 * process's (nothing shared that serialises them).
 */
async function run(w: World) {
  for (const processes of P.scale) {
    const { proc, url } = await startGateway(w.staticEnv, `gateway-x${processes}`, { processes });
    try {
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
          },
        ],
        points: [{ clients: P.directConc, sec: P.directSec }],
        warm: { clients: P.directConc, sec: P.warmSec },
      });
    } finally {
      await stop(proc);
    }
  }
}

function report(md: Markdown) {
  md.line(
    `### 1c. Several gateway processes (node:cluster), GET /v1/client/me from the static upstream, ${P.directConc} connections`,
  );
  md.line();
  const perReq = (r: { cpu: Record<string, number>; rps: number }) => (r.cpu.gateway ?? NaN) / r.rps;
  type Row = Runs & { one: Runs['rs'] };
  const rows: Row[] = P.scale.flatMap((n) => {
    const one = pick('scale', `gateway, beside x${n}`);
    return withRuns([`gateway, beside x${n}`, `gateway x${n}`], (v) => pick('scale', v)).map((r) => ({ ...r, one }));
  });
  md.table<Row>(
    [
      ['gateway processes', ({ name }) => name],
      ['req/s', ({ rs }) => figure(rs, 'rps', 0)],
      ['gateway CPU (all processes)', ({ rs }) => cpuOf(rs, 'gateway')],
      ['gateway CPU per request µs', ({ rs }) => cpuPerRequest(rs, 'gateway')],
      [
        'CPU per request / one process',
        ({ name, rs, one }) => (name.startsWith('gateway, beside') ? '–' : `${fmt(roundRatio(rs, one, perReq), 2)}×`),
      ],
      ['peak RSS MB (largest process)', ({ rs }) => peakRss(rs)],
    ],
    rows,
  );
  md.line();
  md.line("- target: CPU per request within 10 % of one process's.");
  md.line();
}

export const scale: Scenario = { name: 'scale', run, report };
