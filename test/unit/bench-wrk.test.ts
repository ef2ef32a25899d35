import { parseWrk } from '../../bench/lib/wrk';

// wrk 4.1.0's report with --latency, as the direct benchmark reads it.
const REPORT = `Running 5s test @ http://127.0.0.1:18999/v1/client/me
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.25ms    4.04ms 102.10ms   98.98%
    Req/Sec    54.70k    11.94k   66.54k    86.00%
  Latency Distribution
     50%  850.00us
     75%    1.02ms
     90%    1.30ms
     99%    1.20s
  272113 requests in 5.01s, 45.41MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 13
Requests/sec:  54312.18
Transfer/sec:      9.06MB
`;

describe('parseWrk', () => {
  it('reads percentiles in their units, answered requests and failures', () => {
    const r = parseWrk(REPORT);
    expect(r.p50).toBeCloseTo(0.85);
    expect(r.p90).toBeCloseTo(1.3);
    expect(r.p99).toBeCloseTo(1200);
    expect(r.max).toBeCloseTo(102.1);
    expect(r.total).toBe(272113);
    expect(r.failed).toBe(13);
    expect(r.ok).toBe(272100);
    expect(r.errors).toBe(3);
    expect(r.seconds).toBeCloseTo(5.01);
    expect(r.rps).toBeCloseTo(272100 / 5.01);
  });

  it('gives NaN rates for a report it cannot read', () => {
    expect(Number.isNaN(parseWrk('unable to connect to 127.0.0.1:1').rps)).toBe(true);
  });
});
