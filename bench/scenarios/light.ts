import type { Column, Markdown } from '../lib/markdown';
import { compare, gcOf, meGet, openLoopExtra, pacedGet, pick } from '../lib/measure';
import type { PacedResult } from '../lib/pacer';
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
 * upstream path alone. Beside each run: how late an idle process's 1 ms timer fired meanwhile (the
 * machine's delays, bench/canary.ts) and, for the gateway, its garbage collection during the run.
 */
const TABLE = 'gateway, table route';
const TABLE_UPSTREAM = 'upstream alone, billing path';

async function run(w: World) {
  const paced = (variant: string, url: string, path = '/v1/client/me'): Variant<OpenLoopResult> => ({
    variant,
    load: pacedGet(`${url}${path}`, w.user.token),
    extra: openLoopExtra,
  });
  // The gateway's GC during the run, from its /metrics before and after.
  const gcWatched = (v: Variant<OpenLoopResult>): Variant<PacedResult & { gc: { ms: number; over1ms: number } }> => ({
    ...v,
    load: async (at) => {
      const before = await gcOf(w.gatewayStaticAdminUrl);
      const r = (await v.load(at)) as PacedResult;
      const after = await gcOf(w.gatewayStaticAdminUrl);
      return { ...r, gc: { ms: after.ms - before.ms, over1ms: after.over1ms - before.over1ms } };
    },
    extra: (r) => ({ ...openLoopExtra(r), gcMs: r.gc.ms, gcOver1ms: r.gc.over1ms }),
    gatewayPids: () => [w.gatewayStatic.pid],
  });
  await compare(w, {
    scenario: 'light',
    variants: [
      paced('upstream alone', w.upstreamUrl),
      paced('nginx', w.nginxStaticUrl),
      gcWatched(paced('gateway', w.gatewayStaticUrl)),
      paced(TABLE_UPSTREAM, w.upstreamUrl, TABLE_UPSTREAM_PATH),
      gcWatched(paced(TABLE, w.gatewayStaticUrl, TABLE_ROUTE)),
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
      [
        'idle process late p99 / max ms',
        ({ rs }) => `${extraFigure(rs, 'idleLateP99', 2)} / ${extraFigure(rs, 'idleLateMax', 1)}`,
      ],
      [
        'gateway GC ms (pauses > 1 ms)',
        ({ name, rs }) =>
          name.startsWith('gateway') ? `${extraFigure(rs, 'gcMs', 1)} (${extraFigure(rs, 'gcOver1ms', 0)})` : '–',
      ],
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
  md.line(
    '- idle process late: how late the 1 ms timer of a process that does nothing else fired during the run (bench/canary.ts): the delays any process on this machine saw then, whatever the target. gateway GC: its garbage-collection pauses during the run, in all, and how many lasted over 1 ms (its /metrics before and after).',
  );
  md.line('- target: added p99 ≤ 3 ms (the gateway on /me, and the table route: issue 16).');
  md.line();
}

export const light: Scenario = { name: 'light', run, report };
