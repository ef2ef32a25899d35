/** Seeded random requests for the edge fuzz test (test/integration/fuzz.test.ts). */

/** mulberry32: small, fast, and the same sequence for the same seed. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const chance = (p: number) => next() < p;
  return { next, int, pick, chance };
}
export type Rng = ReturnType<typeof prng>;

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
}

/** A v4-shaped UUID from the seeded generator, so a seed replays the same requests. */
export function uuidOf(r: Rng): string {
  const hex = Array.from({ length: 32 }, () => r.int(0, 15).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
}

function junkString(r: Rng): string {
  return r.pick([
    '',
    ' ',
    'x'.repeat(r.int(1, 40)),
    '\u0000\u0001',
    '<script>alert(1)</script>',
    "' OR 1=1 --",
    '☃️💥',
    '%E0%A4%A',
    '../../etc/passwd',
    'a'.repeat(r.int(2_000, 9_000)),
    '{"nested":',
  ]);
}

/** A value of the wrong kind, or nested junk. */
export function junk(r: Rng, depth = 0): unknown {
  switch (r.int(0, 9)) {
    case 0:
      return null;
    case 1:
      return r.int(-1e9, 1e9);
    case 2:
      return r.next() * 1e6;
    case 3:
      return r.chance(0.5);
    case 4:
      return depth > 3 ? [] : Array.from({ length: r.int(0, 4) }, () => junk(r, depth + 1));
    case 5:
      return depth > 3 ? {} : { [junkString(r).slice(0, 20) || 'k']: junk(r, depth + 1), __proto__x: 1 };
    case 6:
      return String(r.int(0, 99));
    case 7:
      return 'true';
    default:
      return junkString(r);
  }
}

/** A value that mostly fits the schema, sometimes not (fuzzing the validator, not only the happy path). */
export function valueFor(r: Rng, schema: JsonSchema | undefined, depth = 0): unknown {
  if (!schema || depth > 5 || r.chance(0.08)) return junk(r, depth);
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return r.pick(schema.enum);
  if (schema.anyOf) return valueFor(r, r.pick(schema.anyOf), depth + 1);
  const type = Array.isArray(schema.type) ? r.pick(schema.type) : schema.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(schema.properties ?? {})) {
        if (schema.required?.includes(k) || r.chance(0.5)) out[k] = valueFor(r, v, depth + 1);
      }
      if (r.chance(0.1)) out.unexpected_field = junk(r, depth + 1);
      return out;
    }
    case 'array':
      return Array.from({ length: r.int(schema.minItems ?? 0, 3) }, () => valueFor(r, schema.items, depth + 1));
    case 'integer':
      return r.chance(0.7) ? r.int(schema.minimum ?? 1, Math.min(schema.maximum ?? 5, 5)) : r.int(-5, 1e6);
    case 'number':
      return r.next();
    case 'boolean':
      return r.chance(0.5);
    case 'string':
      if (schema.format === 'uuid') return uuidOf(r);
      if (schema.format === 'email') return `fuzz-${r.int(0, 1e6)}@example.test`;
      if (schema.format === 'date-time') return new Date().toISOString();
      if (r.chance(0.1)) return 'data:text/plain;base64,aGVsbG8=';
      return r.chance(0.85) ? `fuzz ${r.int(0, 1e6)}` : junkString(r);
    default:
      return junk(r, depth);
  }
}

/** A path parameter: a plausible one, or something an edge must refuse cleanly. */
export function paramValue(r: Rng): string {
  return r.pick([
    String(r.int(1, 5)),
    uuidOf(r),
    '0',
    '-1',
    '99999999999999999999999',
    'a'.repeat(r.int(90, 400)),
    '%E0%A4%A',
    '%00',
    encodeURIComponent('☃'),
    '..',
    'null',
  ]);
}
