import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LoadResult } from '../lib/load';
import type { Markdown } from '../lib/markdown';
import type { PacedResult } from '../lib/pacer';
import { compare, meGet, openLoopExtra, pacedGet, pick } from '../lib/measure';
import { P, ROOT, say } from '../lib/params';
import type { LoadPoint } from '../lib/rounds';
import { cpuOf, figure, latencyColumns, med, roundDiff, roundRatio, withRuns, type Runs } from '../lib/results';
import type { Scenario } from '../lib/scenario';
import { fmt } from '../lib/stats';
import type { World } from '../lib/world';

const run$ = promisify(execFile);
let stopped = false;

/** Stops or starts the local stack's Kafka (scripts/stack.sh keeps its data). */
async function kafka(action: 'stop' | 'start') {
  await run$('bash', [join(ROOT, 'scripts', 'stack.sh'), action, 'kafka'], { timeout: 180_000 });
  stopped = action === 'stop';
  say(`kafka ${action === 'stop' ? 'stopped' : 'started'}`);
}

/**
 * GET /v1/client/me on the gateway → static upstream with Kafka up and with Kafka stopped, in the
 * same rounds: access events wait in the buffer, so throughput (closed loop) and p99 (paced at the
 * light rate) should stay within 10 %. Opt-in (`--only=outage`): it stops the stack's Kafka.
 */
async function run(w: World) {
  const load = (at: LoadPoint) =>
    at.rate === undefined
      ? meGet(w.gatewayStaticUrl, w.user.token)(at)
      : pacedGet(`${w.gatewayStaticUrl}/v1/client/me`, w.user.token)(at);
  const common = {
    load,
    gatewayPids: () => [w.gatewayStatic.pid],
    // Paced runs keep their send lag; closed loops have none.
    extra: (r: LoadResult | PacedResult) => ('lag' in r ? openLoopExtra(r) : {}),
  };
  try {
    await compare(w, {
      scenario: 'outage',
      variants: [
        { variant: 'kafka up', ...common },
        { variant: 'kafka stopped', ...common, before: () => kafka('stop'), after: () => kafka('start') },
      ],
      points: [
        { clients: P.directConc, sec: P.directSec },
        { clients: P.lightConc, sec: P.lightSec, rate: P.lightRate },
      ],
      warm: { clients: P.directConc, sec: P.warmSec },
    });
  } finally {
    await cleanUp();
  }
}

async function cleanUp() {
  if (stopped) await kafka('start');
}

function report(md: Markdown) {
  md.line('### 1d. Kafka stopped: GET /v1/client/me on the gateway → static upstream');
  md.line();
  type Row = Runs & { point: string };
  const rows: Row[] = [
    ...withRuns(['kafka up', 'kafka stopped'], (v) => pick('outage', v, P.directConc)).map((r) => ({
      ...r,
      point: `closed loop, ${P.directConc} connections`,
    })),
    ...withRuns(['kafka up', 'kafka stopped'], (v) => pick('outage', v, P.lightConc, P.lightRate)).map((r) => ({
      ...r,
      point: `${P.lightRate} req/s paced`,
    })),
  ];
  md.table<Row>(
    [
      ['load', ({ point }) => point],
      ['Kafka', ({ name }) => name],
      ['req/s', ({ rs }) => figure(rs, 'rps', 0)],
      ...latencyColumns('', (r: Row) => r.rs, ['p50', 'p99']),
      ['gateway CPU', ({ rs }) => cpuOf(rs, 'gateway')],
    ],
    rows,
  );
  const [up, down] = ['kafka up', 'kafka stopped'].map((v) => pick('outage', v, P.directConc));
  const [upPaced, downPaced] = ['kafka up', 'kafka stopped'].map((v) => pick('outage', v, P.lightConc, P.lightRate));
  md.line();
  if (up?.length && down?.length)
    md.line(`- req/s stopped / up: ${fmt(100 * roundRatio(down, up, (r) => r.rps), 0)} % (target ≥ 90 %)`);
  if (upPaced?.length && downPaced?.length)
    md.line(
      `- paced p99 stopped − up: ${fmt(
        roundDiff(downPaced, upPaced, (r) => r.p99),
        2,
      )} ms (target within 10 % of up's ${fmt(
        med(upPaced, (r) => r.p99),
        2,
      )} ms, the median)`,
    );
  md.line();
}

export const outage: Scenario = { name: 'outage', run, report, cleanUp };
