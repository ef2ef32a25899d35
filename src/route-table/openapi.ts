import type { RouteTable } from './table';

const SECURITY = {
  none: [],
  user: [{ bearer: [] }],
  internal: [{ internalKey: [] }],
} as const;

/** The route table's entries as OpenAPI operations (proxied: bodies are the upstream's). */
export function tableOperations(table: RouteTable): Record<string, Record<string, unknown>> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of table.spec.routes) {
    const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const operations = (paths[route.path] ??= {});
    for (const method of route.methods) {
      operations[method.toLowerCase()] = {
        tags: [`upstream: ${route.upstream}`],
        operationId: `${route.name}-${method.toLowerCase()}`,
        summary: route.summary || `Proxied to ${route.upstream} ${route.upstream_path}`,
        description: `Route table entry \`${route.name}\` (auth: ${route.auth}); proxied to ${route.upstream} ${route.upstream_path}.`,
        security: SECURITY[route.auth],
        ...(params.length ? { parameters: params } : {}),
        responses: {
          default: { description: 'The upstream answer; errors use {detail, code, request_id}' },
        },
      };
    }
  }
  return paths;
}

/**
 * For @fastify/swagger's `transformObject`: the generated document plus the route table. The
 * plugin caches the document it builds once, so `paths` is a getter: /docs/json (serialised on
 * each request) shows the table in use, reloads included.
 */
export function withRouteTable<T extends { paths?: object }>(document: T, current: () => RouteTable | undefined): T {
  const own = document.paths ?? {};
  return Object.defineProperty({ ...document }, 'paths', {
    enumerable: true,
    get: () => {
      const table = current();
      return table ? { ...tableOperations(table), ...own } : own;
    },
  });
}
