import { setTimeout as sleep } from 'node:timers/promises';
import '../../src/kafka/request-queue-fix';

/**
 * src/kafka/request-queue-fix.ts patches a private method of kafkajs (docs/adr/0008-private-internals.md):
 * this fails loudly if a kafkajs upgrade moves the request queue or changes what the patch relies on.
 */
interface Queue {
  pending: unknown[];
  throttleCheckTimeoutId: unknown;
  push(request: unknown): void;
  maybeThrottle(ms: number): void;
  checkPendingRequests(): void;
  fulfillRequest(response: { correlationId: number; payload: Buffer; size: number }): void;
  destroy(): void;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const RequestQueue = require('kafkajs/src/network/requestQueue') as new (options: object) => Queue;

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const newQueue = () =>
  new RequestQueue({
    maxInFlightRequests: 1,
    requestTimeout: 10_000,
    enforceRequestTimeout: false,
    clientId: 'test',
    broker: 'localhost:9092',
    logger: silent,
  });

function request(correlationId: number, sent: number[], answered: number[]) {
  return {
    entry: {
      correlationId,
      apiKey: 0,
      apiName: 'Produce',
      apiVersion: 7,
      resolve: () => answered.push(correlationId),
      reject: () => undefined,
    },
    expectResponse: true,
    sendRequest: () => sent.push(correlationId),
  };
}

describe('kafkajs request queue', () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  beforeAll(() => process.on('warning', onWarning));
  afterAll(() => process.off('warning', onWarning));

  it('arms no timer once an answer leaves nothing pending (no 1 ms loop, no TimeoutNegativeWarning)', async () => {
    const q = newQueue();
    const sent: number[] = [];
    const answered: number[] = [];
    q.push(request(1, sent, answered));
    q.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 });
    expect([sent, answered]).toEqual([[1], [1]]);
    expect(q.throttleCheckTimeoutId).toBeFalsy();
    await sleep(20);
    expect(warnings.filter((w) => w.name === 'TimeoutNegativeWarning')).toEqual([]);
    q.destroy();
  });

  it('still sends a request queued behind one in flight when that one is answered', () => {
    const q = newQueue();
    const sent: number[] = [];
    const answered: number[] = [];
    q.push(request(1, sent, answered));
    q.push(request(2, sent, answered));
    expect(sent).toEqual([1]);
    q.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 });
    expect(sent).toEqual([1, 2]);
    q.destroy();
  });

  it('still sends a request queued during a broker throttle once the throttle ends', async () => {
    const q = newQueue();
    const sent: number[] = [];
    q.maybeThrottle(50);
    q.push(request(1, sent, []));
    expect(sent).toEqual([]);
    await sleep(120);
    expect(sent).toEqual([1]);
    expect(q.pending).toEqual([]);
    q.destroy();
  });
});
