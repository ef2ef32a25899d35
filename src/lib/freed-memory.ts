import { runInNewContext } from 'node:vm';

type GcExtension = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/** Returns freed memory at most this often: each time is one pause of the event loop. */
export const MIN_INTERVAL_MS = 60_000;

let gc: GcExtension | null | undefined;
let lastAt = Number.NEGATIVE_INFINITY;

/** V8's gc() (its GC extension, which `--expose-gc` in src/api/v8-flags.ts installs in new contexts), or null. */
function gcExtension(): GcExtension | null {
  if (gc === undefined) gc = runInNewContext('typeof gc === "function" ? gc : null') as GcExtension | null;
  return gc;
}

/** How long until returnFreedMemory may run again (0: now). */
export function msUntilNextReturn(now = performance.now()): number {
  return Math.max(0, lastAt + MIN_INTERVAL_MS - now);
}

/**
 * Runs one memory-reducing full collection now, unless one ran in the last MIN_INTERVAL_MS or the
 * GC extension is not installed; returns its pause in ms, or undefined when it did not run.
 *
 * V8 keeps the pages a collection frees in a pool, resident, and returns them to the system only
 * in a memory-reducing collection. Its memory reducer starts one only in a process that allocates
 * little, which a gateway never is (docs/adr/0016), so after a burst (a Kafka outage's backlog of
 * access events) the process would keep that burst's pages for good. The "last resort" flavour is
 * the collection V8 runs before it gives up on an allocation: full, compacting, reducing memory.
 */
export function returnFreedMemory(now = performance.now()): number | undefined {
  const collect = gcExtension();
  if (!collect || now - lastAt < MIN_INTERVAL_MS) return undefined;
  lastAt = now;
  const started = performance.now();
  try {
    collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  } catch {
    gc = null; // a V8 whose extension takes other options: never again, and never a crash
    return undefined;
  }
  return performance.now() - started;
}
