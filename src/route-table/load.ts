import { readFile } from 'node:fs/promises';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { isIdempotent } from '../upstreams/http-upstream';
import { RouteTableFile, UpstreamSpec } from './schema';
import { TRANSFORMS } from './transforms';

/** A route table file that cannot be used; `message` is one line naming the entry and field. */
export class RouteTableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RouteTableError';
  }
}

export type Lookup = (name: string) => string | undefined;

const VARIABLE = /\$\{([A-Z0-9_]+)\}/g;

/** Replaces `${NAME}` in every string value; an unknown name is an error naming the field. */
function interpolate(value: unknown, lookup: Lookup, where: Where, at: string[]): unknown {
  if (typeof value === 'string') {
    return value.replace(VARIABLE, (_m, name: string) => {
      const found = lookup(name);
      if (found === undefined) throw new RouteTableError(`${where(at)}: \${${name}} is not set`);
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, lookup, where, [...at, String(i)]));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, lookup, where, [...at, k])]));
  }
  return value;
}

type Where = (at: string[]) => string;

/** Names a field of `doc` from a path of keys: `routes[2] (billing-subscription).timeout_ms`. */
const whereIn =
  (doc: unknown): Where =>
  (at) => {
    const [head, index, ...rest] = at;
    if (head === 'routes' && index !== undefined) {
      const name = (doc as { routes?: { name?: unknown }[] } | null)?.routes?.[Number(index)]?.name;
      const entry = `routes[${index}]${typeof name === 'string' ? ` (${name})` : ''}`;
      return [entry, ...rest].join('.');
    }
    return at.join('.') || '(file)';
  };

function validate(doc: unknown, where: Where): RouteTableFile {
  const withDefaults = Value.Default(RouteTableFile, Value.Clone(doc));
  // TypeBox does not descend into Record values: fill each upstream's defaults itself.
  const upstreams = (withDefaults as { upstreams?: unknown } | null)?.upstreams;
  if (upstreams && typeof upstreams === 'object') {
    for (const [name, u] of Object.entries(upstreams)) {
      if (u && typeof u === 'object') {
        (upstreams as Record<string, unknown>)[name] = Value.Default(UpstreamSpec, { breaker: {}, ...u });
      }
    }
  }
  const first = Value.Errors(RouteTableFile, withDefaults).First();
  if (first) {
    const at = first.path.split('/').filter(Boolean);
    throw new RouteTableError(`${where(at)}: ${first.message}`);
  }
  return withDefaults as RouteTableFile;
}

/** What the schema cannot say: references, retries, path parameters, transforms, duplicates. */
function checkMeaning(table: RouteTableFile, where: Where): void {
  const names = new Set<string>();
  table.routes.forEach((route, i) => {
    const at = (field: string) => where(['routes', String(i), field]);
    if (names.has(route.name)) throw new RouteTableError(`${at('name')}: "${route.name}" is used twice`);
    names.add(route.name);
    if (!table.upstreams[route.upstream]) {
      throw new RouteTableError(`${at('upstream')}: no upstream named "${route.upstream}"`);
    }
    if (route.retries > 0 && !route.methods.every(isIdempotent)) {
      throw new RouteTableError(`${at('retries')}: retries are only allowed when every method is idempotent`);
    }
    if (route.auth !== 'user' && route.user_context !== 'none') {
      throw new RouteTableError(`${at('user_context')}: needs auth: user`);
    }
    if (route.transform !== undefined && !(route.transform in TRANSFORMS)) {
      throw new RouteTableError(`${at('transform')}: unknown transform "${route.transform}"`);
    }
    const params = new Set([...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]));
    for (const m of route.upstream_path.matchAll(/\{(\w+)\}/g)) {
      if (!params.has(m[1])) throw new RouteTableError(`${at('upstream_path')}: {${m[1]}} is not a parameter of path`);
    }
  });
}

/** Parses, interpolates and validates a route table document (YAML text). */
export function parseRouteTable(text: string, lookup: Lookup): RouteTableFile {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new RouteTableError(`not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const where = whereIn(doc);
  const table = validate(interpolate(doc, lookup, where, []), where);
  checkMeaning(table, where);
  return table;
}

export async function readRouteTable(file: string, lookup: Lookup): Promise<RouteTableFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new RouteTableError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return parseRouteTable(text, lookup);
}
