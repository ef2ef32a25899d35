import { Markdown } from './markdown';
import { WRK, results } from './measure';
import { nginxVersion } from './nginx';
import { P, QUICK, RUN_ID } from './params';
import { peakRss, withRuns, type Runs, type Measurement } from './results';
import type { Scenario } from './scenario';
import { fmt } from './stats';
import { RUNTIME_ENV } from './runtime';
import { versions, versionsTable } from './versions';

const benchVersions = () =>
  versions(['autocannon', 'fastify', 'undici', 'kafkajs', '@temporalio/client'], {
    'gateway/worker runtime': Object.entries(RUNTIME_ENV)
      .map(([k, v]) => (k === 'NODE_OPTIONS' ? `${k}="${v}"` : `${k}=${v}`))
      .join(' '),
    nginx: nginxVersion(),
    'closed-loop load generator': WRK ?? 'autocannon (wrk not installed)',
  });

/** 5. The gateway's peak RSS per scenario (the gateways of the rows, not the floor or the echo client). */
function memory(md: Markdown) {
  md.line('### 5. Gateway peak RSS per scenario (largest process, VmHWM)');
  md.line();
  const gatewayRuns = (s: string) =>
    results.filter(
      (r) => r.scenario === s && (r.variant.startsWith('gateway') || (VARIANT_ROUTES[s] ?? []).includes(r.variant)),
    );
  const heap = (rs: Measurement[], k: string) =>
    fmt(Math.max(...rs.map((r) => r.extra?.[k] ?? NaN).filter(Number.isFinite)), 0);
  md.table<Runs>(
    [
      ['scenario', ({ name }) => name],
      ['peak RSS MB', ({ rs }) => peakRss(rs)],
      ['max V8 heap used / total MB after a run', ({ rs }) => `${heap(rs, 'heapUsedMb')} / ${heap(rs, 'heapTotalMb')}`],
      ['max gateway CPU (cores)', ({ rs }) => fmt(Math.max(...rs.map((r) => r.cpu.gateway!)), 2)],
    ],
    withRuns(['direct', 'light', 'outage', 'scale', 'chat', 'chat-rate', 'sse', 'workflow'], gatewayRuns),
  );
  md.line();
  md.line('- target: ≤ 160 MB in every scenario.');
  md.line();
}
/** Scenarios whose gateway rows are named by route or condition rather than "gateway…". */
const VARIANT_ROUTES: Record<string, string[]> = {
  outage: ['kafka up', 'kafka stopped'],
  sse: ['POST /api/conversation/'],
  workflow: ['sign-up', 'invite'],
};

export function report(ran: Scenario[], busyBefore: number): string {
  const md = new Markdown();
  md.line(`## Benchmark results (${QUICK ? 'quick' : 'full'} run ${RUN_ID}, ${new Date().toISOString()})`);
  md.line();
  md.line(
    `Medians of ${P.rounds} run(s) per row; ratios and differences are taken within each round, then the median.`,
  );
  md.line(
    'CPU in cores (2 cores on this machine: load generator, gateway, upstreams and the stack share them); ' +
      `"unattributed" is machine CPU not charged to any process above: other processes and kernel network work. Machine busy before start: ${fmt(busyBefore, 2)} cores.`,
  );
  md.line();
  versionsTable(md, benchVersions());
  md.line();
  for (const s of ran) s.report(md);
  memory(md);
  return md.toString();
}
