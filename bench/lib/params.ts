import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * The run's parameters, from the command line:
 *   node dist/bench/run.js [--quick] [--only=direct,light,scale,profile,chat,workflow,sse,outage] [--sec=N] [--worker-profile]
 * `--sec=N` overrides every run's duration (a smoke test of the harness, not a measurement).
 */
const argv = process.argv.slice(2);
export const QUICK = argv.includes('--quick');
export const WORKER_PROFILE = argv.includes('--worker-profile');
const only = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
export const SCENARIOS = new Set((only ?? 'direct,light,scale,profile,chat,workflow,sse').split(','));
const sec = Number(argv.find((a) => a.startsWith('--sec='))?.slice('--sec='.length) ?? NaN);

/** The full run's parameters; `--quick` shortens runs and rounds. */
const FULL = {
  rounds: 3,
  warmSec: 2,
  /**
   * Warm-up of the Node proxies (floor and gateways) in the direct and profile scenarios: V8
   * finishes compiling their hot paths only after seconds of this load (docs/adr/0014, 0015).
   */
  nodeWarmSec: 20,
  directSec: 8,
  directConc: 50,
  lightSec: 5,
  lightRate: 300,
  lightConc: 10,
  scale: [2, 3],
  profileSec: 8,
  chatSec: 6,
  chatConc: [1, 50, 200],
  chatRates: [100, 300, 600],
  chatRateConc: 50,
  chatRateSec: 10,
  wfLatSec: 5,
  wfSec: 8,
  wfConc: 20,
  sseSec: 5,
  sseConc: [1, 20],
};
const QUICK_PARAMS: typeof FULL = {
  ...FULL,
  rounds: 1,
  warmSec: 1,
  nodeWarmSec: 3,
  directSec: 3,
  lightSec: 3,
  scale: [2],
  profileSec: 4,
  chatSec: 3,
  chatRateSec: 3,
  wfLatSec: 3,
  wfSec: 3,
  sseSec: 3,
};

function withSeconds(p: typeof FULL, s: number): typeof FULL {
  if (!Number.isFinite(s) || s <= 0) return p;
  const d = {
    warmSec: 1,
    nodeWarmSec: 1,
    directSec: s,
    lightSec: s,
    profileSec: s,
    chatSec: s,
    chatRateSec: s,
    wfLatSec: s,
    wfSec: s,
  };
  return { ...p, ...d, sseSec: s };
}

export const P = withSeconds(QUICK ? QUICK_PARAMS : FULL, sec);
export type Params = typeof FULL;

/** Hard stop for the whole run: everything started is stopped even if a scenario hangs. */
export const WATCHDOG_MS = QUICK ? 8 * 60_000 : 35 * 60_000;

export const ROOT = resolve(__dirname, '..', '..', '..');
export const DIST = join(ROOT, 'dist');
/** `bench`, or `chaos` when chaos/run.ts shares these helpers (names its run, directory and log lines). */
const KIND = process.env.HARNESS_KIND === 'chaos' ? 'chaos' : 'bench';
export const RUN_ID = `${KIND}-${Date.now().toString(36)}`;
export const DIR = mkdtempSync(join(tmpdir(), `durable-gateway-${KIND}-`));

export function need(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through bench/run.sh (it loads .stack/stack.env)`);
  return value;
}

export function say(msg: string) {
  process.stderr.write(`[${KIND} ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}
