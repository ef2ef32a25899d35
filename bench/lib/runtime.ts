import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, need } from './params';
import { STACK_DIR } from './stack';
import { childrenOf } from './procs';

/**
 * The memory settings of the container image, read from the Dockerfile's `ENV NODE_OPTIONS=…
 * MALLOC_ARENA_MAX=… MALLOC_MMAP_THRESHOLD_=…` line, so the gateway's RSS here is production's.
 * BENCH_RUNTIME_ENV=`K=V,K=V` adds to them or overrides them for every process started with them
 * (gateways, floors), to try a setting before the image takes it (a value may hold commas:
 * a new pair starts at `,NAME=`).
 */
export const RUNTIME_ENV: Record<string, string> = (() => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const m = /^ENV NODE_OPTIONS="([^"]+)" MALLOC_ARENA_MAX=(\d+) MALLOC_MMAP_THRESHOLD_=(\d+)\s*$/m.exec(dockerfile);
  if (!m) throw new Error('Dockerfile: no `ENV NODE_OPTIONS="…" MALLOC_ARENA_MAX=n MALLOC_MMAP_THRESHOLD_=n` line');
  return {
    NODE_OPTIONS: m[1]!,
    MALLOC_ARENA_MAX: m[2]!,
    MALLOC_MMAP_THRESHOLD_: m[3]!,
    ...envPairs(process.env.BENCH_RUNTIME_ENV ?? ''),
  };
})();

/** `K=V,K=V` as an object; a value may hold commas (MALLOC_CONF=a:1,b:2): a new pair starts at `,NAME=`. */
export function envPairs(list: string): Record<string, string> {
  return Object.fromEntries(
    list
      .split(/,(?=[A-Za-z_][A-Za-z0-9_]*=)/)
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}

/** The shared stack's processes (read-only: only /proc is read). */
export function stackPids(): { postgres: number[]; kafka: number[]; temporal: number[] } {
  const read = (f: string) => {
    try {
      return Number(readFileSync(join(STACK_DIR, f), 'utf8').trim()) || 0;
    } catch {
      return 0;
    }
  };
  const pids = {
    postgres: [] as number[],
    kafka: [read('kafka/pid')].filter(Boolean),
    temporal: [read('temporal/pid')].filter(Boolean),
  };
  // PostgreSQL: the postmaster listening on the stack's port and its backends.
  try {
    const port = new URL(need('DATABASE_URL')).port;
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
    const m = /pid=(\d+)/.exec(out);
    if (m) pids.postgres.push(Number(m[1]), ...childrenOf(Number(m[1])));
  } catch {
    /* not visible */
  }
  return pids;
}
