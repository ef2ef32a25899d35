import type { Markdown } from '../lib/markdown';
import { meGet } from '../lib/measure';
import { P } from '../lib/params';
import type { FrameShare, ProfileSummary } from '../lib/profile';
import { profileGateway } from '../lib/profiled-gateway';
import type { Scenario } from '../lib/scenario';
import { fmt } from '../lib/stats';
import type { World } from '../lib/world';

let summary: ProfileSummary | undefined;

/** A gateway → static upstream under `node --cpu-prof` at the direct scenario's load; top frames of the steady part. */
async function run(w: World) {
  const load = (sec: number) => (url: string) => meGet(url, w.user.token)({ clients: P.directConc, sec });
  summary = await profileGateway(w.staticEnv, load(P.nodeWarmSec), load(P.profileSec), 500);
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
