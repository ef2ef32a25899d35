/**
 * An idle process that only watches its own event loop (bench/lib/pacer.ts starts it beside the
 * pacer): a 1 ms timer, and how late it fires. It does no work of its own, so its delays are the
 * machine's (other processes holding both cores, the kernel), not any target's. The light-load
 * tables show them beside each run's latencies, to tell a gateway's tail from the machine's.
 *
 * Messages: { cmd: 'start' } → { ok: true }; { cmd: 'stop' } → { p99, max } (ms late);
 * { cmd: 'exit' }. About 3 % of a core while it watches.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

export type CanaryRequest = { cmd: 'start' } | { cmd: 'stop' } | { cmd: 'exit' };
export interface CanaryFigures {
  /** How late the 1 ms timer fired (ms): 99th percentile and worst. */
  p99: number;
  max: number;
}

const RESOLUTION_MS = 1;
const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
const late = (ns: number) => Math.max(0, ns / 1e6 - RESOLUTION_MS);

process.on('message', (msg: CanaryRequest) => {
  if (msg.cmd === 'start') {
    delay.reset();
    delay.enable();
    process.send!({ ok: true });
  } else if (msg.cmd === 'stop') {
    delay.disable();
    process.send!({ p99: late(delay.percentile(99)), max: late(delay.max) } satisfies CanaryFigures);
  } else process.exit(0);
});
process.on('disconnect', () => process.exit(0));
