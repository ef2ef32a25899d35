/**
 * The measurement plan every scenario follows: the variants being compared take turns at each load
 * point within a round, and the whole is repeated for several rounds, so that a ratio or difference
 * taken within one round compares runs made under the same conditions (see results.ts).
 */

/** One load point: how many clients (connections or loops) for how long, optionally at a fixed rate. */
export interface LoadPoint {
  clients: number;
  sec: number;
  /** Requests per second over all clients (open loop); absent for a closed loop. */
  rate?: number;
}

/** What a load run has to tell for a measurement to be recorded. */
export interface RunResult {
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  n: number;
  failed: number;
}

/** One of the things compared (a target, a route, a client), and how to load it at a point. */
export interface Variant<T extends RunResult = RunResult> {
  variant: string;
  load(at: LoadPoint): Promise<T>;
  /** Figures beyond the latency summary, kept with the measurement (results.json `extra`). */
  extra?(result: T): Record<string, number>;
  /** The gateway processes to meter, when they are not the harness's one shared gateway. */
  gatewayPids?(): number[];
  /** The outbox relay's processes to meter, when they are not the harness's worker. */
  workerPids?(): number[];
  /** Its own unrecorded warm-up run, instead of the plan's. */
  warm?: LoadPoint;
  /** Set-up and clean-up around each of its runs, outside the measurement (e.g. stop a broker). */
  before?(): Promise<void>;
  after?(): Promise<void>;
}

export interface Plan {
  scenario: string;
  rounds: number;
  variants: Variant[];
  points: LoadPoint[];
  /** An unrecorded run of every variant before the first round. */
  warm?: LoadPoint;
}

/** Labels one measured run. */
export interface RunLabel {
  scenario: string;
  variant: string;
  round: number;
  concurrency: number;
  /** Offered requests per second, for runs at a fixed rate. */
  rate?: number;
  gatewayPids?: () => number[];
  workerPids?: () => number[];
}

/** Meters one load run (CPU, RSS) and records it under `label`. */
export type Meter = <T extends RunResult>(
  label: RunLabel,
  load: () => Promise<T>,
  extra?: (result: T) => Record<string, number>,
) => Promise<T>;

/** Runs a plan: warm-up, then `rounds` × points × variants, in that nesting, every run through `meter`. */
export async function interleavedRounds(plan: Plan, meter: Meter): Promise<void> {
  for (const v of plan.variants) {
    const warm = v.warm ?? plan.warm;
    if (warm) await v.load(warm);
  }
  for (let round = 1; round <= plan.rounds; round += 1) {
    for (const at of plan.points) {
      for (const v of plan.variants) {
        const label: RunLabel = { scenario: plan.scenario, variant: v.variant, round, concurrency: at.clients };
        if (at.rate !== undefined) label.rate = at.rate;
        if (v.gatewayPids) label.gatewayPids = () => v.gatewayPids!();
        if (v.workerPids) label.workerPids = () => v.workerPids!();
        await v.before?.();
        try {
          await meter(label, () => v.load(at), v.extra && ((r) => v.extra!(r)));
        } finally {
          await v.after?.();
        }
      }
    }
  }
}
