import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Markdown } from '../lib/markdown';
import { meGet } from '../lib/measure';
import { DIR, P, say } from '../lib/params';
import { stop } from '../lib/procs';
import { summariseProfile, type FrameShare, type ProfileSummary } from '../lib/profile';
import type { Scenario } from '../lib/scenario';
import { fmt } from '../lib/stats';
import { startGateway, type World } from '../lib/world';

let summary: ProfileSummary | undefined;

/** A gateway → static upstream under `node --cpu-prof` at the direct scenario's load; top frames of the steady part. */
async function run(w: World) {
  const profDir = join(DIR, 'cpu-profile');
  const spawned = performance.now();
  const { proc, url } = await startGateway(w.staticEnv, 'gateway-profiled', {
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`],
  });
  let window: { from: number; to: number };
  try {
    await meGet(url, w.user.token)({ clients: P.directConc, sec: P.warmSec });
    const from = performance.now() - spawned;
    await meGet(url, w.user.token)({ clients: P.directConc, sec: P.profileSec });
    window = { from: from + 500, to: performance.now() - spawned - 500 };
  } finally {
    await stop(proc);
  }
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile written in ${profDir}`);
  summary = summariseProfile(join(profDir, file), window);
  say(`cpu profile: ${join(profDir, file)}`);
}

function report(md: Markdown) {
  if (!summary) return;
  md.line(
    `### CPU profile of the direct path (one gateway → static upstream, ${P.directConc} connections, ${P.profileSec} s; ${fmt(summary.idlePct, 0)} % idle)`,
  );
  md.line();
  md.table<FrameShare>(
    [
      ['self % of busy time', (f) => fmt(f.selfPct, 1)],
      ['function', (f) => `\`${f.frame}\``],
      ['where', (f) => `\`${f.where}\``],
    ],
    summary.top,
  );
  md.line();
  md.table<FrameShare>(
    [
      ['self % by package', (f) => fmt(f.selfPct, 1)],
      ['package', (f) => f.frame],
    ],
    summary.byPackage,
  );
  md.line();
}

export const profileSummary = () => summary;
export const profile: Scenario = { name: 'profile', run, report };
