import { gcPauses, loopMaxMs } from '../../bench/lib/stalls';

// The local Kafka broker's GC log (-Xlog:gc:file=…:time,uptime), as scripts/stack.sh writes it.
const LOG = `[2026-12-07T19:53:56.597+0000][7.580s] GC(22) Pause Young (Concurrent Start) (G1 Evacuation Pause) 397M->208M(454M) 11.810ms
[2026-12-07T19:53:56.597+0000][7.580s] GC(23) Concurrent Mark Cycle
[2026-12-07T19:53:56.729+0000][7.712s] GC(23) Pause Remark 215M->215M(454M) 17.187ms
[2026-12-07T19:53:56.794+0000][7.777s] GC(23) Pause Cleanup 218M->218M(454M) 0.106ms
[2026-12-07T19:53:56.900+0000][7.883s] GC(23) Concurrent Mark Cycle 303.104ms
[2026-12-07T20:53:58.000+0100][9.000s] GC(24) Pause Young (Normal) (G1 Evacuation Pause) 401M->208M(454M) 9.500ms
[2026-12-07T19:54:10.000+0000][20.000s] GC(25) Pause Young (Normal) (G1 Evacuation Pause) 401M->208M(454M) 30.000ms
`;
const at = (iso: string) => Date.parse(iso);

describe('gcPauses', () => {
  it('counts the pauses that ended in the window, longest and total, and no concurrent phase', () => {
    const r = gcPauses(LOG, at('2026-12-07T19:53:56.500Z'), at('2026-12-07T19:54:00Z'));
    // Young 11.81, Remark 17.187, Cleanup 0.106, and the +0100 line (19:53:58 UTC); not the 303 ms concurrent cycle.
    expect(r.kafkaGcPauses).toBe(4);
    expect(r.kafkaGcLongestMs).toBeCloseTo(17.187);
    expect(r.kafkaGcMs).toBeCloseTo(11.81 + 17.187 + 0.106 + 9.5);
  });

  it('finds none outside the window', () => {
    expect(gcPauses(LOG, at('2026-12-07T19:55:00Z'), at('2026-12-07T19:56:00Z')).kafkaGcPauses).toBe(0);
  });
});

describe('loopMaxMs', () => {
  it("reads prom-client's event-loop maximum less its 10 ms tick, and nothing when it is absent", () => {
    const metrics = '# HELP nodejs_eventloop_lag_max_seconds x\nnodejs_eventloop_lag_max_seconds 0.021495807\n';
    expect(loopMaxMs(metrics).gatewayLoopDelayMaxMs).toBeCloseTo(11.5, 1);
    expect(loopMaxMs('nodejs_eventloop_lag_max_seconds 0.0100921\n').gatewayLoopDelayMaxMs).toBeCloseTo(0.09, 2);
    expect(loopMaxMs('nodejs_eventloop_lag_seconds 0.001\n')).toEqual({});
  });
});
