import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { STACK_DIR, stackCmdline } from './stack';

/**
 * What paused during a run, outside the load generator: the local Kafka broker's garbage-collection
 * pauses (scripts/stack.sh starts it with a GC log, as Kafka's own start script does) and the
 * gateway's longest event-loop delay (prom-client's, reset by every /metrics read); procs.ts reads
 * the run-queue waits. A p99 of a few thousand samples moves with one such pause, so every run
 * records them beside its latencies.
 */

/** A JVM unified-logging GC line: `[2026-12-07T19:53:03.830+0000][7.580s] GC(22) Pause Young (…) 8.515ms`. */
const PAUSE = /^\[(\d{4}-\d\d-\d\dT[\d:.]+[+-]\d{4})\]\[[^\]]*\] GC\(\d+\) Pause .* ([\d.]+)ms$/;

/**
 * The stack's Kafka GC log, or undefined when the running broker is not the local stack's or does
 * not write one (nothing to read: its columns then say n/a rather than 0).
 */
function kafkaGcLog(): string | undefined {
  if (!stackCmdline('kafka').includes('-Xlog:gc:file=')) return undefined;
  try {
    return readFileSync(join(STACK_DIR, 'kafka', 'gc.log'), 'utf8');
  } catch {
    return undefined;
  }
}

/** The local Kafka broker's GC pauses that ended between `fromMs` and `toMs` (epoch ms); nothing without its log. */
export function kafkaPauses(fromMs: number, toMs: number): Record<string, number> {
  const log = kafkaGcLog();
  return log === undefined ? {} : gcPauses(log, fromMs, toMs);
}

/** The pauses of a JVM GC log (`-Xlog:gc:…:time`) that ended between `fromMs` and `toMs`: how many, longest, total ms. */
export function gcPauses(log: string, fromMs: number, toMs: number): Record<string, number> {
  let n = 0;
  let longest = 0;
  let total = 0;
  for (const line of log.split('\n')) {
    const m = PAUSE.exec(line);
    if (!m) continue;
    const at = Date.parse(m[1]!.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
    if (!(at >= fromMs && at <= toMs)) continue;
    const ms = Number(m[2]);
    n += 1;
    total += ms;
    longest = Math.max(longest, ms);
  }
  return { kafkaGcPauses: n, kafkaGcLongestMs: longest, kafkaGcMs: total };
}

/** Reads a gateway's /metrics so that prom-client's event-loop histogram starts afresh (errors ignored). */
export async function resetLoopDelay(adminUrl: string): Promise<void> {
  await fetch(`${adminUrl}/metrics`)
    .then((res) => res.text())
    .catch(() => undefined);
}

/** prom-client's event-loop monitor ticks every 10 ms (collectDefaultMetrics' default), and each recorded delay includes the tick. */
const LOOP_TICK_MS = 10;

/**
 * The longest event-loop delay since the last read, from a gateway's /metrics text, in ms: prom-client's
 * maximum less its 10 ms tick (a block of X ms reads X to X + 10; an idle loop 10).
 */
export function loopMaxMs(metrics: string): Record<string, number> {
  const m = /^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(metrics);
  return m ? { gatewayLoopDelayMaxMs: Math.max(0, Number(m[1]) * 1000 - LOOP_TICK_MS) } : {};
}
