import autocannon from 'autocannon';
import { Samples, summarise, type LatencySummary } from './stats';

export interface HttpLoadOptions {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** A fresh body per request (e.g. a unique e-mail); sent as JSON. */
  body?: () => string;
  connections: number;
  durationSec: number;
  /** Paces all connections together to this many requests per second (open loop). */
  overallRate?: number;
}

export interface LoadResult extends LatencySummary {
  /** 2xx answers per second over the run. */
  rps: number;
  ok: number;
  failed: number;
  errors: number;
  seconds: number;
  statuses: Record<string, number>;
}

/**
 * One autocannon run. Latencies are taken from autocannon's `response` event (hrtime, in ms with
 * sub-millisecond resolution; its own histogram rounds to whole ms), for 2xx answers only.
 */
export async function httpLoad(opts: HttpLoadOptions): Promise<LoadResult> {
  const samples = new Samples();
  const statuses: Record<string, number> = {};
  let ok = 0;
  let failed = 0;
  const headers = { ...(opts.headers ?? {}) };
  if (opts.body) headers['content-type'] = 'application/json';
  const makeBody = opts.body;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: opts.url,
        method: opts.method ?? 'GET',
        headers,
        connections: opts.connections,
        duration: opts.durationSec,
        overallRate: opts.overallRate,
        timeout: 20,
        requests: makeBody
          ? [
              {
                setupRequest: (req) => {
                  req.body = makeBody();
                  return req;
                },
              },
            ]
          : undefined,
      },
      (err: unknown, res) => (err ? reject(err instanceof Error ? err : new Error(JSON.stringify(err))) : resolve(res)),
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status >= 200 && status < 300) {
        ok += 1;
        samples.push(ms);
      } else failed += 1;
    });
  });
  const seconds = result.duration;
  return {
    ...summarise(samples),
    rps: ok / seconds,
    ok,
    failed,
    errors: result.errors,
    seconds,
    statuses,
  };
}

export interface LoopResult extends LatencySummary {
  rps: number;
  ok: number;
  failed: number;
  seconds: number;
  firstError?: string;
}

/** `concurrency` loops each running `task` back to back until `durationMs` is over (closed loop). */
export async function closedLoop(
  task: (worker: number) => Promise<void>,
  concurrency: number,
  durationMs: number,
): Promise<LoopResult> {
  const samples = new Samples();
  let ok = 0;
  let failed = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  const deadline = t0 + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < deadline) {
        const started = performance.now();
        try {
          await task(worker);
          samples.push(performance.now() - started);
          ok += 1;
        } catch (err) {
          failed += 1;
          firstError ??= err instanceof Error ? err.message : String(err);
          await new Promise((r) => setTimeout(r, 10));
        }
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { ...summarise(samples), rps: ok / seconds, ok, failed, seconds, firstError };
}
