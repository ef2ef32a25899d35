import FindMyWay, { type HTTPMethod } from 'find-my-way';
import type { Logger as PinoLogger } from '../logger';

type Logger = Pick<PinoLogger, 'info' | 'warn' | 'error'>;
import { HttpUpstream } from '../upstreams/http-upstream';
import { RouteTableError } from './load';
import type { RouteSpec, RouteTableFile, UpstreamSpec } from './schema';

export interface RouteMatch {
  route: RouteSpec;
  upstream: HttpUpstream;
  params: Record<string, string | undefined>;
}

/** `/v1/x/{id}` (the table's syntax, as OpenAPI writes it) → `/v1/x/:id` (find-my-way's). */
export const routerPath = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');

/**
 * One immutable version of the route table: a router over its entries and the upstream clients
 * they use. A reload builds a new one and swaps it in; requests keep the version they matched.
 */
export class RouteTable {
  private readonly router = FindMyWay({ ignoreTrailingSlash: true });

  constructor(
    readonly spec: RouteTableFile,
    readonly upstreams: ReadonlyMap<string, HttpUpstream>,
    readonly version: number,
  ) {
    spec.routes.forEach((route, i) => {
      for (const method of route.methods) {
        try {
          this.router.on(method as HTTPMethod, routerPath(route.path), () => undefined, { route });
        } catch {
          throw new RouteTableError(`routes[${i}] (${route.name}).path: ${method} ${route.path} is already routed`);
        }
      }
    });
  }

  match(method: string, path: string): RouteMatch | undefined {
    const found = this.router.find(method as HTTPMethod, path);
    if (!found) return undefined;
    const route = (found.store as { route: RouteSpec }).route;
    return { route, upstream: this.upstreams.get(route.upstream)!, params: found.params };
  }

  /** Methods a path is routed for (for 405 + Allow). */
  allowedMethods(path: string): string[] {
    return ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => this.router.find(m as HTTPMethod, path));
  }
}

const sameUpstream = (a: HttpUpstream, url: string, spec: UpstreamSpec) =>
  a.options.url === url &&
  a.options.connections === spec.connections &&
  a.options.keepAliveMs === spec.keep_alive_ms &&
  a.options.breakerThreshold === spec.breaker.threshold &&
  a.options.breakerCooldownMs === spec.breaker.cooldown_ms &&
  a.options.readinessPath === spec.readiness &&
  a.options.maxAnswerBytes === spec.max_answer_bytes;

/**
 * Builds the next table. Upstreams whose settings did not change keep their client (pool and
 * breaker state survive a reload); the clients no longer used are returned to be closed once the
 * requests still holding them are done.
 */
export function buildRouteTable(
  spec: RouteTableFile,
  previous: RouteTable | undefined,
  logger: Logger,
): { table: RouteTable; retired: HttpUpstream[] } {
  const upstreams = new Map<string, HttpUpstream>();
  // The router first: a refused table must not have opened pools.
  const table = new RouteTable(spec, upstreams, (previous?.version ?? 0) + 1);
  for (const [name, u] of Object.entries(spec.upstreams)) {
    const old = previous?.upstreams.get(name);
    upstreams.set(
      name,
      old && sameUpstream(old, u.url, u)
        ? old
        : new HttpUpstream(
            {
              name,
              url: u.url,
              connections: u.connections,
              keepAliveMs: u.keep_alive_ms,
              breakerThreshold: u.breaker.threshold,
              breakerCooldownMs: u.breaker.cooldown_ms,
              readinessPath: u.readiness,
              maxAnswerBytes: u.max_answer_bytes,
            },
            logger,
          ),
    );
  }
  const kept = new Set(upstreams.values());
  const retired = [...(previous?.upstreams.values() ?? [])].filter((u) => !kept.has(u));
  return { table, retired };
}
