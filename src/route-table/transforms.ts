/**
 * Named body transforms a route table entry may apply to a successful JSON answer. They are code,
 * not configuration: the table only names them.
 */

/** `2027-01-05T06:36:26.207084+00:00Z` (billing's stray `Z` after an offset) → RFC 3339. */
const OFFSET_THEN_Z = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?[+-]\d{2}:\d{2})Z$/;

export function normaliseTimestamp(value: string): string {
  const m = OFFSET_THEN_Z.exec(value);
  return m ? m[1]! : value;
}

/** Every string in a JSON value that is an offset-then-Z timestamp, normalised (deep). */
export function normaliseTimestamps(value: unknown): unknown {
  if (typeof value === 'string') return normaliseTimestamp(value);
  if (Array.isArray(value)) return value.map(normaliseTimestamps);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normaliseTimestamps(v)]));
  }
  return value;
}

export const TRANSFORMS: Record<string, (body: unknown) => unknown> = {
  'rfc3339-timestamps': normaliseTimestamps,
};
