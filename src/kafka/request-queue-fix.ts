/**
 * kafkajs 2.2.4's request queue (one per broker connection) re-arms a timer after every check for
 * pending requests, even with nothing pending: `throttledUntil` starts at -1, so the delay is
 * `-1 - Date.now()`, which Node clamps to 1 ms. Every connection that has answered one request then
 * runs a 1 ms timer loop for as long as it is open (kafkajs issues 1704 and 1751), and Node 24 warns
 * `TimeoutNegativeWarning` for it. A check with nothing pending and no throttle in force is skipped
 * here: a new request is sent at once or queued with a check of its own, and every answer or
 * timeout checks the queue again. A private internal of kafkajs (docs/adr/0008-private-internals.md),
 * guarded by test/unit/kafka-request-queue.test.ts; kafkajs is pinned in package.json.
 */
interface RequestQueueInternals {
  pending: unknown[];
  throttledUntil: number;
  scheduleCheckPendingRequests: (this: RequestQueueInternals) => void;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const RequestQueue = require('kafkajs/src/network/requestQueue') as { prototype: RequestQueueInternals };

const PATCHED = Symbol.for('durable-gateway.kafkajs-request-queue-fix');
const proto = RequestQueue.prototype as RequestQueueInternals & { [PATCHED]?: true };

if (!proto[PATCHED]) {
  const schedule = proto.scheduleCheckPendingRequests;
  proto.scheduleCheckPendingRequests = function (this: RequestQueueInternals) {
    if (this.pending.length === 0 && this.throttledUntil <= Date.now()) return;
    schedule.call(this);
  };
  proto[PATCHED] = true;
}

export {};
