import type { Column } from './markdown';
import type { RunLabel, RunResult } from './rounds';
import { fmt, median } from './stats';

/** One recorded load run (a row of results.json): its label, latency summary and what it cost. */
export interface Measurement extends Omit<RunLabel, 'gatewayPids'>, RunResult {
  /** CPU in cores (1.0 = one core busy for the whole run), per process group. */
  cpu: Record<string, number>;
  /** Peak RSS (MB) of the largest gateway process, and of all gateway processes together. */
  gatewayPeakRssMb: number;
  gatewayPeakRssSumMb: number;
  extra?: Record<string, number>;
}

/** The runs of one variant (all rounds), optionally at one concurrency and one rate. */
export function pick(results: Measurement[], scenario: string, variant: string, c?: number, rate?: number) {
  return results.filter(
    (r) =>
      r.scenario === scenario &&
      r.variant === variant &&
      (c === undefined || r.concurrency === c) &&
      (rate === undefined || r.rate === rate),
  );
}

export function med(rs: Measurement[], f: (r: Measurement) => number) {
  return median(rs.map(f));
}

/** Median over rounds of `combine` applied to the two runs of the same round. */
function sameRound(
  a: Measurement[],
  b: Measurement[],
  f: (r: Measurement) => number,
  combine: (x: number, y: number) => number,
) {
  const values: number[] = [];
  for (const x of a) {
    const y = b.find((r) => r.round === x.round);
    if (y) values.push(combine(f(x), f(y)));
  }
  return median(values);
}

/** Median over rounds of a ratio taken within each round. */
export const roundRatio = (a: Measurement[], b: Measurement[], f: (r: Measurement) => number) =>
  sameRound(a, b, f, (x, y) => x / y);

/** Median over rounds of a difference taken within each round. */
export const roundDiff = (a: Measurement[], b: Measurement[], f: (r: Measurement) => number) =>
  sameRound(a, b, f, (x, y) => x - y);

// Table cells over the runs of one row.

/** Median of any figure of the runs, formatted. */
export const medFmt = (rs: Measurement[], f: (r: Measurement) => number, digits: number) => fmt(med(rs, f), digits);

/** Median of a throughput or latency figure, formatted. */
export const figure = (rs: Measurement[], key: 'rps' | 'p50' | 'p90' | 'p99', digits: number) =>
  medFmt(rs, (r) => r[key], digits);

/** Median of an `extra` figure, formatted. */
export const extraFigure = (rs: Measurement[], key: string, digits: number) =>
  medFmt(rs, (r) => r.extra?.[key] ?? NaN, digits);

/** Median over rounds of a latency difference `rs` minus `base` taken within each round, formatted. */
export const addedFigure = (rs: Measurement[], base: Measurement[], key: 'p50' | 'p90' | 'p99') =>
  fmt(
    roundDiff(rs, base, (r) => r[key]),
    2,
  );

/** Median CPU (cores) of a process group. */
export const cpuOf = (rs: Measurement[], group: string) => medFmt(rs, (r) => r.cpu[group] ?? NaN, 2);

/** Median CPU time per answered request (µs) of a process group: cores / (req/s), per run. */
export const cpuPerRequest = (rs: Measurement[], group: string) =>
  medFmt(rs, (r) => ((r.cpu[group] ?? NaN) * 1e6) / r.rps, 0);

/** Largest gateway peak RSS (MB) of the runs. */
export const peakRss = (rs: Measurement[]) => fmt(Math.max(...rs.map((r) => r.gatewayPeakRssMb)), 0);

export const failedSum = (rs: Measurement[]) => rs.reduce((a, r) => a + r.failed, 0);

// Table rows and columns.

/** A row of runs: what it is called and the runs (all rounds) it summarises. */
export interface Runs {
  name: string;
  rs: Measurement[];
}

/** Latency columns (median over rounds) of the runs `of` a row picks, e.g. `gateway p50 ms`. */
export function latencyColumns<R>(
  prefix: string,
  of: (row: R) => Measurement[],
  keys: ('p50' | 'p90' | 'p99')[],
  digits = 2,
) {
  return keys.map((k): Column<R> => [`${prefix}${k} ms`, (row) => figure(of(row), k, digits)]);
}

/** CPU columns, `<group> CPU`: median cores over rounds, per process group the harness meters. */
export function cpuColumns<R>(of: (row: R) => Measurement[], groups: (keyof typeof CPU_GROUPS)[]) {
  return groups.map((g): Column<R> => [`${g} CPU`, (row) => cpuOf(of(row), CPU_GROUPS[g])]);
}

/** A CPU column's name → the key of its process group in Measurement.cpu. */
export const CPU_GROUPS = {
  gateway: 'gateway',
  worker: 'worker',
  'auth fake': 'authFake',
  'chat fake': 'chatFake',
  nginx: 'nginx',
  'load gen': 'loadgen',
  'Temporal server': 'temporal',
  PG: 'postgres',
  Kafka: 'kafka',
  machine: 'machine',
  unattributed: 'other',
} as const;

/** Rows for the names that have runs, in the given order. */
export function withRuns(names: string[], runsOf: (name: string) => Measurement[]): Runs[] {
  return names.map((name) => ({ name, rs: runsOf(name) })).filter((r) => r.rs.length);
}
