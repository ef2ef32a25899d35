import { execFileSync } from 'node:child_process';
import { WRK } from './measure';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Markdown } from './markdown';
import { results } from './measure';
import { nginxVersion } from './nginx';
import { P, QUICK, ROOT, RUN_ID } from './params';
import { peakRss, withRuns, type Runs, type Measurement } from './results';
import type { Scenario } from './scenario';
import { fmt } from './stats';
import { RUNTIME_ENV } from './runtime';

function versions(): Record<string, string> {
  const pkg = (name: string) =>
    (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  const stackDir = process.env.GATEWAY_STACK_DIR ?? join(ROOT, '.stack');
  const cmdline = (service: string) => {
    try {
      return readFileSync(`/proc/${readFileSync(join(stackDir, `${service}/pid`), 'utf8').trim()}/cmdline`, 'utf8');
    } catch {
      return '';
    }
  };
  let temporalCli = '?';
  try {
    temporalCli = execFileSync(cmdline('temporal').split('\0')[0]!, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    /* not visible */
  }
  return {
    node: process.version,
    'gateway/worker runtime': `NODE_OPTIONS="${RUNTIME_ENV.NODE_OPTIONS}" MALLOC_ARENA_MAX=${RUNTIME_ENV.MALLOC_ARENA_MAX} MALLOC_MMAP_THRESHOLD_=${RUNTIME_ENV.MALLOC_MMAP_THRESHOLD_}`,
    nginx: nginxVersion(),
    kafka: /kafka-(\d+\.\d+\.\d+)/.exec(cmdline('kafka'))?.[1] ?? '?',
    'temporal CLI': temporalCli.replace(/\s+/g, ' '),
    'closed-loop load generator': WRK ?? `autocannon ${pkg('autocannon')} (wrk not installed)`,
    autocannon: pkg('autocannon'),
    fastify: pkg('fastify'),
    undici: pkg('undici'),
    kafkajs: pkg('kafkajs'),
    '@temporalio/client': pkg('@temporalio/client'),
    cpu: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
  };
}

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
    withRuns(['direct', 'light', 'scale', 'chat', 'chat-rate', 'sse', 'workflow'], gatewayRuns),
  );
  md.line();
  md.line('- target: ≤ 160 MB in every scenario.');
  md.line();
}
/** Scenarios whose gateway rows are named by route rather than "gateway…". */
const VARIANT_ROUTES: Record<string, string[]> = { sse: ['POST /api/conversation/'], workflow: ['sign-up', 'invite'] };

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
  md.table<[string, string]>(
    [
      ['version', ([k]) => k],
      ['', ([, v]) => v],
    ],
    Object.entries(versions()),
  );
  md.line();
  for (const s of ran) s.report(md);
  memory(md);
  return md.toString();
}
