import { Counter, Histogram, type MetricObjectWithValues, type MetricValue } from 'prom-client';

const LABELS = ['method', 'route', 'status'] as const;
type Label = (typeof LABELS)[number];
type Labels = Record<Label, string>;

const TOTAL = 'gateway_http_requests_total';
const TOTAL_HELP = 'HTTP requests by route template, method and status';
const DURATION = 'gateway_http_request_duration_seconds';
const DURATION_HELP = 'HTTP request latency by route template, method and status';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One (route, method, status): its count, its latency sum, and its count per bucket (not cumulative; the last is +Inf). */
interface Cell {
  labels: Labels;
  count: number;
  sum: number;
  buckets: number[];
}

/**
 * `gateway_http_requests_total` and `gateway_http_request_duration_seconds`, counted per route
 * template, method and status in plain cells that prom-client reads when `/metrics` is scraped.
 * prom-client's `inc` and `observe` turn their label object into a string key and check it on every
 * call, which twice per request was about 2 % of the gateway's CPU on `/v1/client/me`; here a request
 * finds its cell by three Map lookups and adds to numbers. The two metrics are prom-client's
 * `Counter` and `Histogram` with `get()` answering from the cells, so a Registry serves them as
 * before, in the same text (test/unit/http-metrics.test.ts compares it with prom-client's own).
 */
export class HttpRequestMetrics {
  /** route → method → status → cell. */
  private readonly cells = new Map<string, Map<string, Map<number, Cell>>>();
  readonly total: Counter<Label>;
  readonly duration: Histogram<Label>;

  constructor() {
    this.total = new CellCounter(this);
    this.duration = new CellHistogram(this);
  }

  record(method: string, route: string, status: number, seconds: number): void {
    let byMethod = this.cells.get(route);
    if (byMethod === undefined) this.cells.set(route, (byMethod = new Map<string, Map<number, Cell>>()));
    let byStatus = byMethod.get(method);
    if (byStatus === undefined) byMethod.set(method, (byStatus = new Map<number, Cell>()));
    let cell = byStatus.get(status);
    if (cell === undefined) {
      const buckets = new Array<number>(BUCKETS.length + 1).fill(0);
      cell = { labels: { method, route, status: String(status) }, count: 0, sum: 0, buckets };
      byStatus.set(status, cell);
    }
    cell.count += 1;
    cell.sum += seconds;
    let i = 0;
    while (i < BUCKETS.length && seconds > BUCKETS[i]!) i++;
    cell.buckets[i]! += 1;
  }

  /** Forgets every count (a Registry's `resetMetrics()` resets both metrics). */
  reset(): void {
    this.cells.clear();
  }

  *all(): Iterable<Cell> {
    for (const byMethod of this.cells.values()) for (const byStatus of byMethod.values()) yield* byStatus.values();
  }
}

class CellCounter extends Counter<Label> {
  constructor(private readonly owner: HttpRequestMetrics) {
    super({ name: TOTAL, help: TOTAL_HELP, labelNames: LABELS, registers: [] });
  }

  override async get(): Promise<MetricObjectWithValues<MetricValue<Label>>> {
    // prom-client's own answer (name, help, type, aggregator) with no values, since `inc` is never called.
    const base = await super.get();
    const values: MetricValue<Label>[] = [];
    for (const cell of this.owner.all()) values.push({ value: cell.count, labels: cell.labels });
    return { ...base, values };
  }

  override reset(): void {
    super.reset();
    // prom-client's constructor calls reset() before `owner` is assigned.
    (this.owner as HttpRequestMetrics | undefined)?.reset();
  }
}

interface HistogramPoint {
  labels: Partial<Record<Label | 'le', string | number>>;
  sharedLabels: Labels;
  value: number;
  metricName: string;
  /** As prom-client writes it without exemplars: null on buckets, undefined on the sum and count. */
  exemplar: null | undefined;
}

class CellHistogram extends Histogram<Label> {
  constructor(private readonly owner: HttpRequestMetrics) {
    super({
      name: DURATION,
      help: DURATION_HELP,
      labelNames: LABELS,
      buckets: BUCKETS,
      registers: [],
    });
  }

  override reset(): void {
    super.reset();
    // prom-client's constructor calls reset() before `owner` is assigned.
    (this.owner as HttpRequestMetrics | undefined)?.reset();
  }

  /**
   * What prom-client's Registry writes as text, and what `get()` (prom-client's) reshapes for JSON:
   * `le` first, the cell's labels shared by its lines, as prom-client's Histogram answers.
   */
  async getForPromString() {
    const name = DURATION;
    const values: HistogramPoint[] = [];
    for (const cell of this.owner.all()) {
      const point = (labels: HistogramPoint['labels'], value: number, suffix: string, exemplar: null | undefined) =>
        values.push({ labels, sharedLabels: cell.labels, value, metricName: `${name}${suffix}`, exemplar });
      let acc = 0;
      BUCKETS.forEach((le, i) => point({ le }, (acc += cell.buckets[i]!), '_bucket', null));
      point({ le: '+Inf' }, cell.count, '_bucket', null);
      point({}, cell.sum, '_sum', undefined);
      point({}, cell.count, '_count', undefined);
    }
    return Promise.resolve({ name, help: DURATION_HELP, type: 'histogram', aggregator: 'sum', values });
  }
}
