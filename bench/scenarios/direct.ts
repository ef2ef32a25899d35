import type { Markdown } from '../lib/markdown';
import { loadGet, compare, meGet, pick } from '../lib/measure';
import { P } from '../lib/params';
import { stop } from '../lib/procs';
import { TABLE_ROUTE } from '../lib/route-table';
import {
  cpuOf,
  cpuPerRequest,
  failedSum,
  figure,
  latencyColumns,
  med,
  peakRss,
  roundRatio,
  withRuns,
  type Runs,
} from '../lib/results';
import type { Scenario } from '../lib/scenario';
import { fmt } from '../lib/stats';
import { startFloor, type World } from '../lib/world';

/**
 * 1. Direct proxy, GET /v1/client/me, closed loop. The rows that count answer from the static
 * responder, so the upstream is never the bottleneck: the upstream alone, nginx (1 worker), the
 * floor (bench/floor.ts: bare Fastify + undici) and the gateway. Three more rows go through the
 * auth fake, which checks an RS256 token per call, for realism. "gateway, table route" is the
 * same gateway's route-table proxy (GET /v1/billing/subscription → the static responder), against
 * its hand-written /me proxy in the same rounds (issue 16).
 */
const STATIC = ['upstream alone', 'nginx', 'floor', 'gateway'];
const TABLE = 'gateway, table route';
const VIA_FAKE = ['auth fake alone', 'nginx → auth fake', 'gateway → auth fake'];
const ROWS = [...STATIC, TABLE, ...VIA_FAKE];

async function run(w: World) {
  const { proc: floor, url: floorUrl } = await startFloor(w.staticEnv);
  try {
    const get = (url: string) => meGet(url, w.user.token);
    // Node proxies are compared at their steady state: V8 finishes compiling a fresh gateway's hot
    // paths only after 5-20 s of this load (ADR 0014, 0015); the floor gets the same warm-up.
    const warm = { clients: P.directConc, sec: P.nodeWarmSec };
    await compare(w, {
      scenario: 'direct',
      variants: [
        { variant: 'upstream alone', load: get(w.upstreamUrl) },
        { variant: 'nginx', load: get(w.nginxStaticUrl) },
        { variant: 'floor', load: get(floorUrl), gatewayPids: () => [floor.pid], warm },
        { variant: 'gateway', load: get(w.gatewayStaticUrl), gatewayPids: () => [w.gatewayStatic.pid], warm },
        {
          variant: TABLE,
          load: loadGet(`${w.gatewayStaticUrl}${TABLE_ROUTE}`, w.user.token),
          gatewayPids: () => [w.gatewayStatic.pid],
          warm,
        },
        { variant: 'auth fake alone', load: get(w.authUrl) },
        { variant: 'nginx → auth fake', load: get(w.nginxUrl) },
        { variant: 'gateway → auth fake', load: get(w.gatewayUrl), warm },
      ],
      points: [{ clients: P.directConc, sec: P.directSec }],
      warm: { clients: P.directConc, sec: P.warmSec },
    });
  } finally {
    await stop(floor);
  }
}

const isNode = ({ name }: Runs) => name === 'floor' || name.startsWith('gateway');
/** The CPU of the process that answered: the proxy, or the upstream for the "alone" rows. */
const answering = ({ name }: Runs) =>
  name === 'upstream alone'
    ? 'upstream'
    : name === 'auth fake alone'
      ? 'authFake'
      : name.startsWith('nginx')
        ? 'nginx'
        : 'gateway';
const upstreamOf = ({ name }: Runs) => (VIA_FAKE.includes(name) ? 'authFake' : 'upstream');

function report(md: Markdown) {
  md.line(`### 1. Direct proxy: GET /v1/client/me, ${P.directConc} connections, ${P.directSec} s per run`);
  md.line();
  md.line(`"${TABLE}": GET ${TABLE_ROUTE} through the same gateway's route table to the static responder.`);
  md.line();
  const rows = withRuns(ROWS, (v) => pick('direct', v));
  md.table<Runs>(
    [
      ['target', ({ name }) => name],
      ['req/s', ({ rs }) => figure(rs, 'rps', 0)],
      ...latencyColumns('', (r: Runs) => r.rs, ['p50', 'p99']),
      ['failed', ({ rs }) => failedSum(rs)],
      ['proxy CPU', (r) => (r.name.endsWith('alone') ? '–' : cpuOf(r.rs, answering(r)))],
      ['upstream CPU', (r) => cpuOf(r.rs, upstreamOf(r))],
      ['load gen CPU', ({ rs }) => cpuOf(rs, 'loadgen')],
      ['machine CPU', ({ rs }) => cpuOf(rs, 'machine')],
      ['unattributed CPU', ({ rs }) => cpuOf(rs, 'other')],
      ['gateway peak RSS MB', (r) => (isNode(r) ? peakRss(r.rs) : '–')],
    ],
    rows,
  );
  md.line();
  ratios(md);
  md.line();
  md.line('CPU time per answered request, µs, by process (median over rounds of cores / req/s):');
  md.line();
  md.table<Runs>(
    [
      ['target', ({ name }) => name],
      ['answering process', (r) => cpuPerRequest(r.rs, answering(r))],
      ['upstream', (r) => (r.name.endsWith('alone') ? '–' : cpuPerRequest(r.rs, upstreamOf(r)))],
      ['outbox relay (worker)', ({ rs }) => cpuPerRequest(rs, 'worker')],
      ['PostgreSQL', ({ rs }) => cpuPerRequest(rs, 'postgres')],
      ['Kafka', ({ rs }) => cpuPerRequest(rs, 'kafka')],
      ['load gen', ({ rs }) => cpuPerRequest(rs, 'loadgen')],
      ['unattributed', ({ rs }) => cpuPerRequest(rs, 'other')],
      ['machine', ({ rs }) => cpuPerRequest(rs, 'machine')],
    ],
    rows,
  );
  md.line();
}

/** Same-round ratios against the targets of issues 15 and 16. */
function ratios(md: Markdown) {
  const [up, ng, fl, gw] = STATIC.map((v) => pick('direct', v));
  if (!up?.length || !ng?.length || !fl?.length || !gw?.length) return;
  const rps = (r: { rps: number }) => r.rps;
  const pct = (x: number) => `${fmt(100 * x, 0)} %`;
  const fastest = roundRatio(up, ng.length && med(ng, rps) >= med(fl, rps) ? ng : fl, rps);
  md.line(
    `- upstream alone / fastest proxy: ${fmt(fastest, 1)}× (must be ≥ 3× for the upstream not to be the bottleneck)`,
  );
  md.line(
    `- gateway / floor req/s: **${pct(roundRatio(gw, fl, rps))}** (target ≥ 75 %); gateway / nginx: ${pct(roundRatio(gw, ng, rps))}`,
  );
  md.line(`- floor / nginx req/s: ${pct(roundRatio(fl, ng, rps))} (the most a Fastify + undici proxy reaches here)`);
  const perReq = (r: { cpu: Record<string, number>; rps: number }) => (r.cpu.gateway ?? NaN) / r.rps;
  md.line(`- gateway / floor CPU per answered request: **${fmt(roundRatio(gw, fl, perReq), 2)}×** (target ≤ 1.3×)`);
  const table = pick('direct', TABLE);
  if (table.length)
    md.line(
      `- table route / gateway /me (issue 16): req/s **${pct(roundRatio(table, gw, rps))}** (target ≥ 90 %), ` +
        `CPU per answered request ${fmt(roundRatio(table, gw, perReq), 2)}×`,
    );
  const viaFake = pick('direct', 'gateway → auth fake');
  const ngFake = pick('direct', 'nginx → auth fake');
  if (viaFake.length && ngFake.length)
    md.line(`- through the auth fake: gateway / nginx ${pct(roundRatio(viaFake, ngFake, rps))}`);
}

export const direct: Scenario = { name: 'direct', run, report };
