import { Counter, Histogram, Registry } from 'prom-client';
import { HttpRequestMetrics } from '../../src/api/http-metrics';

/**
 * src/api/http-metrics.ts counts requests in its own cells and answers prom-client's `get()` from
 * them: what a scrape reads (text and JSON) must be exactly what prom-client's own Counter and
 * Histogram, fed the same requests, would answer.
 */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

// Latencies at, below and above bucket bounds, zero and beyond the last bound.
const REQUESTS: [string, string, number, number][] = [
  ['GET', '/v1/client/me', 200, 0.0004],
  ['GET', '/v1/client/me', 200, 0.001],
  ['GET', '/v1/client/me', 200, 0.0010001],
  ['GET', '/v1/client/me', 200, 0],
  ['GET', '/v1/client/me', 401, 0.003],
  ['POST', '/v1/client/me', 405, 0.2],
  ['GET', 'unmatched', 404, 10],
  ['GET', 'unmatched', 404, 12.5],
  ['PATCH', '/v1/org/:org_id/members/:user_id', 200, 2.5],
  ['DELETE', '/v1/org/:org_id/members/:user_id', 503, 0.07],
];

function registries(): { ours: Registry; reference: Registry; cells: HttpRequestMetrics } {
  const cells = new HttpRequestMetrics();
  const ours = new Registry();
  ours.registerMetric(cells.duration);
  ours.registerMetric(cells.total);
  const reference = new Registry();
  const labelNames = ['method', 'route', 'status'] as const;
  const duration = new Histogram({
    name: 'gateway_http_request_duration_seconds',
    help: 'HTTP request latency by route template, method and status',
    labelNames,
    buckets: BUCKETS,
    registers: [reference],
  });
  const total = new Counter({
    name: 'gateway_http_requests_total',
    help: 'HTTP requests by route template, method and status',
    labelNames,
    registers: [reference],
  });
  for (const [method, route, status, seconds] of REQUESTS) {
    cells.record(method, route, status, seconds);
    const labels = { method, route, status: String(status) };
    duration.observe(labels, seconds);
    total.inc(labels);
  }
  return { ours, reference, cells };
}

describe('HttpRequestMetrics', () => {
  it('is scraped as the same text as prom-client Counter and Histogram fed the same requests', async () => {
    const { ours, reference } = registries();
    const text = await ours.metrics();
    expect(text).toBe(await reference.metrics());
    expect(text).toContain('gateway_http_requests_total{method="GET",route="/v1/client/me",status="200"} 4');
    expect(text).toContain(
      'gateway_http_request_duration_seconds_bucket{le="0.001",method="GET",route="/v1/client/me",status="200"} 3',
    );
    expect(text).toContain(
      'gateway_http_request_duration_seconds_bucket{le="10",method="GET",route="unmatched",status="404"} 1',
    );
    expect(text).toContain(
      'gateway_http_request_duration_seconds_bucket{le="+Inf",method="GET",route="unmatched",status="404"} 2',
    );
  });

  it('answers the same JSON as prom-client', async () => {
    const { ours, reference } = registries();
    expect(await ours.getMetricsAsJSON()).toEqual(await reference.getMetricsAsJSON());
  });

  it("forgets every count on the registry's reset, then counts again", async () => {
    const { ours, cells } = registries();
    ours.resetMetrics();
    expect(await ours.metrics()).not.toContain('gateway_http_requests_total{');
    cells.record('GET', '/health/live', 200, 0.0001);
    expect(await ours.metrics()).toContain(
      'gateway_http_requests_total{method="GET",route="/health/live",status="200"} 1',
    );
  });
});
