import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface FrameShare {
  frame: string;
  where: string;
  selfPct: number;
}

export interface ProfileSummary {
  /** Profiled wall time in the window, ms. */
  totalMs: number;
  /** Share of samples in which the thread was idle (waiting for I/O). */
  idlePct: number;
  top: FrameShare[];
  /** Self time grouped by package (or `node:internal`, `gateway src`, GC...). */
  byPackage: FrameShare[];
}

/** Where a frame lives, shortened: `fastify/lib/reply.js:123`, `node:internal/...`, `src/api/app.js:50`. */
function location(frame: CallFrame): string {
  const url = frame.url.replace(/^file:\/\//, '');
  if (!url) return '';
  const nm = url.lastIndexOf('/node_modules/');
  const short = nm >= 0 ? url.slice(nm + '/node_modules/'.length) : url.replace(/^.*\/dist\//, '');
  return `${short}:${frame.lineNumber + 1}`;
}

function packageOf(frame: CallFrame): string {
  const url = frame.url.replace(/^file:\/\//, '');
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native / V8 builtins)';
  if (url.startsWith('node:')) return 'node: core';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (url.includes('/dist/src/')) return 'gateway (dist/src)';
  return url;
}

/**
 * Self time per function from a `.cpuprofile` (as written by `node --cpu-prof`), counting only
 * samples inside `windowMs` (ms since the profile started, i.e. the load phase, not start-up).
 * Shares are of the busy (non-idle) time in the window.
 */
export function summariseProfile(file: string, windowMs?: { from: number; to: number }, topN = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>(profile.nodes.map((n) => [n.id, n]));
  const selfByNode = new Map<number, number>();
  let total = 0;
  let at = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    at += dt;
    if (windowMs && (at < windowMs.from * 1000 || at > windowMs.to * 1000)) return;
    total += dt;
    selfByNode.set(id, (selfByNode.get(id) ?? 0) + dt);
  });
  const byFrame = new Map<string, { frame: string; where: string; us: number }>();
  const byPkg = new Map<string, number>();
  let idle = 0;
  for (const [id, us] of selfByNode) {
    const cf = byId.get(id)!.callFrame;
    if (cf.functionName === '(idle)') {
      idle += us;
      continue;
    }
    const where = location(cf);
    const name = cf.functionName || '(anonymous)';
    const key = `${name}@${where}`;
    const entry = byFrame.get(key) ?? { frame: name, where, us: 0 };
    entry.us += us;
    byFrame.set(key, entry);
    const pkg = packageOf(cf);
    byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + us);
  }
  const busy = total - idle;
  const pct = (us: number) => (100 * us) / busy;
  return {
    totalMs: total / 1000,
    idlePct: (100 * idle) / total,
    top: [...byFrame.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, topN)
      .map((e) => ({ frame: e.frame, where: e.where, selfPct: pct(e.us) })),
    byPackage: [...byPkg.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, topN)
      .map(([frame, us]) => ({ frame, where: '', selfPct: pct(us) })),
  };
}
