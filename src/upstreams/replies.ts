import { Kind, OptionalKind, type TSchema } from '@sinclair/typebox';
import { Counter } from 'prom-client';
import { HttpError } from '../errors';

/**
 * Reading upstream replies liberally (gateway-http.md, "What the gateway accepts from upstreams"):
 * unknown fields are dropped, `null` or a missing value in a field the gateway only passes on
 * becomes that field's empty value ("" / 0 / false / [] / null where the schema allows null), and
 * digit strings are read as numbers where the schema wants one. Only the per-user ids the gateway
 * routes by (`PerUserId`) and literal discriminators must be there and right.
 */
export type ReadResult = { ok: true; value: unknown } | { ok: false; path: string; message: string };

const DIGITS = /^-?\d{1,16}$/;

/** Marks a schema as one the gateway routes by (required); chat's per-user ids are recognised by shape. */
export const ROUTED = 'x-gateway-routes-by';

/** A per-user resource number (chat-kafka.md, Identifiers) or a marked id: the values routed by. */
function isRoutedId(schema: TSchema): boolean {
  if (schema[ROUTED] === true) return true;
  return schema.type === 'integer' && schema.minimum === 1 && schema.maximum === Number.MAX_SAFE_INTEGER;
}

function emptyValue(schema: TSchema): unknown {
  if (schema[Kind] === 'Union') {
    const members = schema.anyOf as TSchema[];
    if (members.some((m) => m.type === 'null')) return null;
    return emptyValue(members[0]!);
  }
  if (schema.const !== undefined) return schema.const;
  switch (schema.type) {
    case 'string':
      return '';
    case 'integer':
    case 'number':
      return 0;
    case 'boolean':
      return false;
    case 'array':
      return [];
    case 'null':
      return null;
    case 'object': {
      const filled = readObject(schema, {}, '', false);
      return filled.ok ? filled.value : null;
    }
    default:
      return null;
  }
}

const fail = (path: string, message: string): ReadResult => ({ ok: false, path: path || '(reply)', message });
const join = (path: string, key: string | number) => (path ? `${path}.${key}` : String(key));

function readNumber(schema: TSchema, value: unknown, path: string): ReadResult {
  const n = typeof value === 'string' && DIGITS.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) return fail(path, `must be ${schema.type as string}`);
  if (schema.type === 'integer' && !Number.isSafeInteger(n)) return fail(path, 'must be integer');
  if (isRoutedId(schema) && n < 1) return fail(path, 'must be a positive id');
  return { ok: true, value: n };
}

/** A schema's properties as [name, schema] pairs, listed once per schema: a reply is read on every request. */
const propertyLists = new WeakMap<TSchema, [string, TSchema][]>();
function propertiesOf(schema: TSchema): [string, TSchema][] {
  let list = propertyLists.get(schema);
  if (list === undefined) {
    list = Object.entries(schema.properties as Record<string, TSchema>);
    propertyLists.set(schema, list);
  }
  return list;
}

function readObject(schema: TSchema, value: unknown, path: string, discriminated: boolean): ReadResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(path, 'must be object');
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, property] of propertiesOf(schema)) {
    const field = source[key];
    if ((field === undefined || field === null) && property[OptionalKind] === 'Optional') continue;
    const result = read(property, field, join(path, key), discriminated);
    if (!result.ok) return result;
    out[key] = result.value;
  }
  // A list's total defaults to what it holds, not 0 (it becomes X-Total-Count).
  if (Array.isArray(out.items) && 'total_count' in out && (source.total_count ?? null) === null) {
    out.total_count = out.items.length;
  }
  return { ok: true, value: out };
}

/** `discriminated`: inside an alternative of a union, whose literals tell the alternatives apart. */
function read(schema: TSchema, value: unknown, path: string, discriminated = false): ReadResult {
  if (value === undefined || value === null) {
    if (isRoutedId(schema)) return fail(path, 'is required');
    if (schema.const !== undefined && discriminated) return fail(path, 'is required');
    if (schema.type === 'object') return readObject(schema, {}, path, discriminated);
    return { ok: true, value: emptyValue(schema) };
  }
  if (schema[Kind] === 'Union') {
    let first: ReadResult | undefined;
    for (const member of schema.anyOf as TSchema[]) {
      const result = read(member, value, path, true);
      if (result.ok) return result;
      first ??= result;
    }
    return first ?? fail(path, 'matches no alternative');
  }
  if (schema.const !== undefined) return value === schema.const ? { ok: true, value } : fail(path, 'has another value');
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') return fail(path, 'must be string');
      return isRoutedId(schema) && !value ? fail(path, 'is required') : { ok: true, value };
    case 'integer':
    case 'number':
      return readNumber(schema, value, path);
    case 'boolean':
      return typeof value === 'boolean' ? { ok: true, value } : fail(path, 'must be boolean');
    case 'null':
      return fail(path, 'must be null');
    case 'array': {
      if (!Array.isArray(value)) return fail(path, 'must be array');
      const items: unknown[] = [];
      for (const [i, item] of value.entries()) {
        const result = read(schema.items as TSchema, item, join(path, i), discriminated);
        if (!result.ok) return result;
        items.push(result.value);
      }
      return { ok: true, value: items };
    }
    case 'object':
      return readObject(schema, value, path, discriminated);
    default:
      return { ok: true, value };
  }
}

/** Reads `value` as `schema` describes it, liberally (see above). */
export function readUpstreamReply(schema: TSchema, value: unknown): ReadResult {
  return read(schema, value, '');
}

export const upstreamRepliesRefused = new Counter({
  name: 'gateway_upstream_replies_refused_total',
  help: 'Upstream replies the gateway could not use (a field it routes by or maps is missing or wrong)',
  labelNames: ['upstream', 'operation'],
  registers: [],
});

export interface RefusedReply {
  upstream: 'auth' | 'chat';
  operation: string;
  path: string;
  message: string;
  /** The upstream's own request id, when there is one (the chat request_id). */
  upstreamRequestId?: string;
}

/**
 * Counts one refused reply and returns the 502 to answer with. The error handler writes its one
 * log line, with the request id, the operation and the failing field's path (never the reply).
 */
export function refuseReply(refused: RefusedReply): HttpError {
  upstreamRepliesRefused.inc({ upstream: refused.upstream, operation: refused.operation });
  const service = refused.upstream === 'chat' ? 'chat service' : 'auth service';
  return new HttpError('upstream_error', `The ${service} sent an unexpected reply`, {
    log: {
      upstream: refused.upstream,
      operation: refused.operation,
      field: refused.path,
      reason: refused.message,
      ...(refused.upstreamRequestId ? { upstream_request_id: refused.upstreamRequestId } : {}),
    },
  });
}
