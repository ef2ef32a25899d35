import type { Logger as PinoLogger } from '../logger';

type Logger = Pick<PinoLogger, 'info' | 'warn' | 'error'>;
import type { HttpUpstream } from '../upstreams/http-upstream';
import { readRouteTable, RouteTableError, type Lookup } from './load';
import { buildRouteTable, type RouteMatch, type RouteTable } from './table';

export interface UpstreamReadiness {
  name: string;
  status: 'up' | 'down';
  latency_ms: number;
  error?: string;
}

/**
 * The route table in use and its reloads. `current` is swapped in one assignment, so a request
 * sees one whole version; a request holds the version it matched (`acquire`) until its response
 * is done, and upstream clients a reload dropped are closed when no request holds them any more.
 */
export class LiveRouteTable {
  private table: RouteTable | undefined;
  private readonly holders = new Map<RouteTable, number>();
  private readonly pendingRetire = new Map<RouteTable, HttpUpstream[]>();

  constructor(
    readonly file: string,
    private readonly lookup: Lookup,
    private readonly logger: Logger,
    private readonly onReloadFailure: () => void = () => undefined,
  ) {}

  get current(): RouteTable {
    if (!this.table) throw new Error('route table not loaded');
    return this.table;
  }

  /** First load: an invalid file stops the start (RouteTableError, one line). */
  async load(): Promise<void> {
    const spec = await readRouteTable(this.file, this.lookup);
    this.swap(buildRouteTable(spec, this.table, this.logger));
  }

  /** Reload (SIGHUP, file watch): an invalid file keeps the table in use and says why. */
  async reload(): Promise<boolean> {
    try {
      await this.load();
      this.logger.info({ file: this.file, version: this.current.version }, 'route table reloaded');
      return true;
    } catch (err) {
      this.onReloadFailure();
      const reason = err instanceof RouteTableError ? err.message : 'unexpected error';
      this.logger.error({ file: this.file, reason }, 'route table reload refused; keeping the table in use');
      if (!(err instanceof RouteTableError)) this.logger.error({ err }, 'route table reload error');
      return false;
    }
  }

  /** Matches a request against the current table and holds that version until `release`. */
  acquire(method: string, path: string): { match: RouteMatch | undefined; release: () => void } {
    const table = this.current;
    const match = table.match(method, path);
    if (!match) return { match, release: () => undefined };
    this.holders.set(table, (this.holders.get(table) ?? 0) + 1);
    let released = false;
    return {
      match,
      release: () => {
        if (released) return;
        released = true;
        const left = (this.holders.get(table) ?? 1) - 1;
        if (left > 0) this.holders.set(table, left);
        else {
          this.holders.delete(table);
          this.retireIfIdle(table);
        }
      },
    };
  }

  /** An upstream client of the current table by name (the billing adapters use `billing`). */
  upstream(name: string): HttpUpstream | undefined {
    return this.table?.upstreams.get(name);
  }

  /** Informational readiness of every upstream of the current table (or of the one named). */
  async readiness(timeoutMs: number, name?: string): Promise<UpstreamReadiness[]> {
    const upstreams = [...(this.table?.upstreams.values() ?? [])].filter((u) => name === undefined || u.name === name);
    return Promise.all(upstreams.map((u) => probe(u, timeoutMs)));
  }

  async close(): Promise<void> {
    const all = new Set([...(this.table?.upstreams.values() ?? []), ...[...this.pendingRetire.values()].flat()]);
    this.table = undefined;
    await Promise.allSettled([...all].map((u) => u.close()));
  }

  private swap({ table, retired }: { table: RouteTable; retired: HttpUpstream[] }): void {
    const previous = this.table;
    this.table = table;
    if (previous && retired.length) {
      this.pendingRetire.set(previous, retired);
      this.retireIfIdle(previous);
    }
  }

  private retireIfIdle(table: RouteTable): void {
    const retired = this.pendingRetire.get(table);
    if (!retired || this.holders.has(table) || table === this.table) return;
    this.pendingRetire.delete(table);
    for (const u of retired) void u.close().catch(() => undefined);
  }
}

async function probe(upstream: HttpUpstream, timeoutMs: number): Promise<UpstreamReadiness> {
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  try {
    const status = await upstream.probe(timeoutMs);
    if (status >= 500) return { name: upstream.name, status: 'down', latency_ms: latency(), error: `HTTP ${status}` };
    return { name: upstream.name, status: 'up', latency_ms: latency() };
  } catch (err) {
    const error = (err as { name?: string }).name ?? 'unreachable';
    return { name: upstream.name, status: 'down', latency_ms: latency(), error };
  }
}
