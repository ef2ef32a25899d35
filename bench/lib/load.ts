import autocannon from 'autocannon';
import { Client } from 'undici';
import { Samples, summarise, type LatencySummary } from './stats';

export interface HttpLoadOptions {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** A fresh body per request (e.g. a unique e-mail); sent as JSON. */
  body?: () => string;
  connections: number;
  durationSec: number;
  /** A fixed number of requests instead of a duration (`durationSec` is then ignored). */
  amount?: number;
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
        ...(opts.amount ? { amount: opts.amount } : {}),
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

/** The outcomes of a loop's tasks: latencies of those that succeeded, count and first error of the rest. */
class Tally {
  readonly samples = new Samples();
  ok = 0;
  failed = 0;
  firstError?: string;

  succeeded(ms: number): void {
    this.samples.push(ms);
    this.ok += 1;
  }

  threw(err: unknown): void {
    this.failed += 1;
    this.firstError ??= err instanceof Error ? err.message : String(err);
  }

  /** `rps` from `answered` (default: every success) over `seconds`. */
  result(seconds: number, answered = this.ok): LoopResult {
    const { ok, failed, firstError } = this;
    return { ...summarise(this.samples), rps: answered / seconds, ok, failed, seconds, firstError };
  }
}

/** `concurrency` loops each running `task` back to back until `durationMs` is over (closed loop). */
export async function closedLoop(
  task: (worker: number) => Promise<void>,
  concurrency: number,
  durationMs: number,
): Promise<LoopResult> {
  const tally = new Tally();
  const t0 = performance.now();
  const deadline = t0 + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < deadline) {
        const started = performance.now();
        try {
          await task(worker);
          tally.succeeded(performance.now() - started);
        } catch (err) {
          tally.threw(err);
          await new Promise((r) => setTimeout(r, 10));
        }
      }
    }),
  );
  return tally.result((performance.now() - t0) / 1000);
}

export interface OpenLoopResult extends LoopResult {
  /** Requests the schedule asked for (rate × duration). */
  offered: number;
  /** How late requests were started against their slot in the schedule (ms): timer and event-loop delay. */
  lag: LatencySummary;
}

/**
 * Open loop: starts `task` at a fixed `rate` per second for `durationMs` on a schedule (request i
 * is due i / rate s after the start) whether or not earlier requests have answered, and times each
 * from its start to its end with process.hrtime. A timer of 1 ms or more drives the schedule; what
 * it starts late shows in `lag`. `rps` counts the answers that arrived within the window.
 */
export async function openLoop(
  task: (seq: number) => Promise<void>,
  rate: number,
  durationMs: number,
): Promise<OpenLoopResult> {
  const tally = new Tally();
  const lag = new Samples();
  const offered = Math.floor((rate * durationMs) / 1000);
  const slotNs = 1e9 / rate;
  const windowNs = durationMs * 1e6;
  const t0 = process.hrtime.bigint();
  const sinceStart = () => Number(process.hrtime.bigint() - t0);
  const pending = new Set<Promise<void>>();
  let sent = 0;
  let answeredInWindow = 0;
  const send = (seq: number) => {
    const started = sinceStart();
    lag.push((started - seq * slotNs) / 1e6);
    const done = task(seq).then(
      () => {
        const ended = sinceStart();
        tally.succeeded((ended - started) / 1e6);
        if (ended <= windowNs) answeredInWindow += 1;
      },
      (err: unknown) => tally.threw(err),
    );
    pending.add(done);
    void done.finally(() => pending.delete(done));
  };
  await new Promise<void>((resolve) => {
    const tick = () => {
      while (sent < offered && sent * slotNs <= sinceStart()) send(sent++);
      if (sent >= offered) resolve();
      else setTimeout(tick, Math.max(1, Math.floor((sent * slotNs - sinceStart()) / 1e6)));
    };
    tick();
  });
  await Promise.all(pending);
  return { ...tally.result(durationMs / 1000, answeredInWindow), offered, lag: summarise(lag) };
}

/**
 * `connections` keep-alive HTTP/1.1 connections to one URL, each one request at a time (undici
 * Client, pipelining 1), for an open loop that keeps a fixed number of clients connected: `get(seq)`
 * sends request `seq` on connection seq mod connections, so at a fixed rate every connection sends
 * every connections / rate s, staggered; a request whose connection is still busy waits for it.
 * A non-2xx answer rejects.
 */
export function keepAliveGets(url: string, headers: Record<string, string>, connections: number) {
  const target = new URL(url);
  const clients = Array.from(
    { length: connections },
    () =>
      new Client(target.origin, {
        pipelining: 1,
        keepAliveTimeout: 60_000,
        headersTimeout: 20_000,
        bodyTimeout: 20_000,
      }),
  );
  const get = async (seq: number) => {
    const res = await clients[seq % connections]!.request({
      path: target.pathname + target.search,
      method: 'GET',
      headers,
    });
    await res.body.text();
    if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`GET ${url}: ${res.statusCode}`);
  };
  return {
    get,
    /** Opens every connection (one request each, all at once). */
    open: () => Promise.all(clients.map((_, i) => get(i))).then(() => undefined),
    close: () => Promise.all(clients.map((c) => c.close())).then(() => undefined),
  };
}
