/** How a request of an open loop is scheduled and timed (openLoop). */
export const OPEN_LOOP_SCHEDULE =
  'request i is due at i / rate s whether or not earlier ones have answered, timed from its start to its last byte (process.hrtime), ' +
  'in a load-generator process of its own that does nothing else (bench/pacer.ts).';

/** The notes under a table of open loops over `connections` keep-alive connections, beside autocannon's overallRate. */
export const pacedNotes = (connections: number) => ({
  connections: (who: string) =>
    `- ${who}: ${connections} keep-alive connections opened beforehand, one request at a time each; request i goes out on connection i mod ${connections} ` +
    `(each connection sends every ${connections} / rate s, staggered); a request whose connection is busy waits for it, and that wait counts.`,
  sendLag:
    '- send lag: how late the load generator sent requests against their schedule (its timer and event loop; large on a busy machine). ' +
    'Latencies start when a request is sent, so a large lag means the offered rate was not held, not slower answers.',
  autocannon:
    `- autocannon overallRate, for comparison: autocannon gives each connection rate / ${connections} requests per second and sends them back to back when each second starts, ` +
    `so every second begins with a burst of ${connections} requests at once; its latency is that of the burst, not of a steady rate.`,
});
