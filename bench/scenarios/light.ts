import type { Column, Markdown } from '../lib/markdown';
import { compare, meGet, openLoopExtra, pacedGet, pick } from '../lib/measure';
import { OPEN_LOOP_SCHEDULE, pacedNotes } from '../lib/notes';
import { P } from '../lib/params';
import { TABLE_ROUTE, TABLE_UPSTREAM_PATH } from '../lib/route-table';
import { addedFigure, cpuOf, extraFigure, latencyColumns, withRuns, type Runs } from '../lib/results';
import type { OpenLoopResult } from '../lib/load';
import type { Variant } from '../lib/rounds';
import type { Scenario } from '../lib/scenario';
import type { World } from '../lib/world';

/**
 * 1b. Light load: GET /v1/client/me at a fixed rate far below every target's capacity, paced in
 * the pacer process. At 300 req/s over 10 connections a request goes out every 3.3 ms and each
 * connection is free long before its next one, so latency is service time, not queueing; "added"
 * is the target minus the static upstream alone, within each round. The route table's row
 * (GET /v1/billing/subscription, issue 16) is compared with the static upstream answering its
 * upstream path alone.
 */
const TABLE = 'gateway, table route';
const TABLE_UPSTREAM = 'upstream alone, billing path';

async function run(w: World) {
  const paced = (variant: string, url: string, path = '/v1/client/me'): Variant<OpenLoopResult> => ({
    variant,
    load: pacedGet(`${url}${path}`, w.user.token),
    extra: openLoopExtra,
  });
  await compare(w, {
    scenario: 'light',
    variants: [
      paced('upstream alone', w.upstreamUrl),
      paced('nginx', w.nginxStaticUrl),
      { ...paced('gateway', w.gatewayStaticUrl), gatewayPids: () => [w.gatewayStatic.pid] },
      paced(TABLE_UPSTREAM, w.upstreamUrl, TABLE_UPSTREAM_PATH),
      { ...paced(TABLE, w.gatewayStaticUrl, TABLE_ROUTE), gatewayPids: () => [w.gatewayStatic.pid] },
      // For comparison: autocannon's own pacing at the same rate and connections.
      {
        variant: 'gateway, autocannon overallRate',
        load: meGet(w.gatewayStaticUrl, w.user.token),
        gatewayPids: () => [w.gatewayStatic.pid],
      },
    ],
    points: [{ clients: P.lightConc, sec: P.lightSec, rate: P.lightRate }],
  });
}

function report(md: Markdown) {
  md.line(
    `### 1b. Light load: GET /v1/client/me at ${P.lightRate} req/s over ${P.lightConc} connections, ${P.lightSec} s per run`,
  );
  md.line();
  md.line(`Open loop: ${OPEN_LOOP_SCHEDULE} "added" is the target minus the static upstream alone, within each round.`);
  md.line(
    `"${TABLE}": GET ${TABLE_ROUTE} through the route table; its "added" is against "${TABLE_UPSTREAM}" (${TABLE_UPSTREAM_PATH}).`,
  );
  md.line();
  const up = pick('light', 'upstream alone');
  const tableUp = pick('light', TABLE_UPSTREAM);
  const baseOf = (name: string) => (name === TABLE ? tableUp : up);
  const isUpstream = (name: string) => name.startsWith('upstream alone');
  const autocannonRuns = ({ name }: Runs) =>
    name === 'gateway' ? pick('light', 'gateway, autocannon overallRate') : [];
  const added = (k: 'p50' | 'p99'): Column<Runs> => [
    `added ${k} ms`,
    ({ name, rs }) => (isUpstream(name) ? '–' : addedFigure(rs, baseOf(name), k)),
  ];
  md.table<Runs>(
    [
      ['target', ({ name }) => name],
      ...latencyColumns('', (r: Runs) => r.rs, ['p50', 'p90', 'p99']),
      added('p50'),
      added('p99'),
      ['send lag p99 ms', ({ rs }) => extraFigure(rs, 'sendLagP99', 2)],
      ...latencyColumns('autocannon overallRate ', autocannonRuns, ['p50', 'p99']),
      ['gateway CPU', ({ name, rs }) => (name.startsWith('gateway') ? cpuOf(rs, 'gateway') : '–')],
    ],
    withRuns(['upstream alone', 'nginx', 'gateway', TABLE_UPSTREAM, TABLE], (v) => pick('light', v)),
  );
  md.line();
  const notes = pacedNotes(P.lightConc);
  md.line(notes.connections('every target'));
  md.line(notes.sendLag);
  md.line(notes.autocannon);
  md.line('- target: added p99 ≤ 3 ms (the gateway on /me, and the table route: issue 16).');
  md.line();
}

export const light: Scenario = { name: 'light', run, report };
