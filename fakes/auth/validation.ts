/**
 * Request validation the way the auth service (FastAPI + pydantic) reports it: 422 with
 * `{"detail": [{type, loc, msg, input}, ...]}`. Only what the fake's routes need.
 */

/** An error the auth service answers with `{"detail": "<text>"}`. */
export class DetailError extends Error {
  constructor(
    readonly statusCode: number,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'DetailError';
  }
}

/** An unexpected failure: the auth service answers `text/plain` "Internal Server Error". */
export class UnexpectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnexpectedError';
  }
}

export interface ValidationIssue {
  type: string;
  loc: (string | number)[];
  msg: string;
  input: unknown;
  ctx?: Record<string, unknown>;
}

export class RequestValidationError extends Error {
  constructor(readonly issues: ValidationIssue[]) {
    super('Request validation failed');
    this.name = 'RequestValidationError';
  }
}

type FieldSpec =
  | { kind: 'string'; required?: boolean; minLength?: number; default?: string }
  | { kind: 'email'; required?: boolean }
  | { kind: 'uuid'; required?: boolean }
  | { kind: 'enum'; values: readonly string[]; required?: boolean; default?: string };

export type BodySchema = Record<string, FieldSpec>;

type Parsed<S extends BodySchema> = { [K in keyof S]: S[K] extends { required: false } ? string | undefined : string };

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** Canonical (lower-case, hyphenated) form of a UUID, as Python's `str(UUID(...))` prints it. */
export function canonicalUuid(value: string): string {
  const hex = value.replace(/-/g, '').toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The body as a JSON object, or FastAPI's 422 for a missing, malformed or non-object body. */
function readObject(raw: unknown): Record<string, unknown> {
  let body: unknown;
  if (raw === undefined || raw === null || raw === '') {
    throw new RequestValidationError([{ type: 'missing', loc: ['body'], msg: 'Field required', input: null }]);
  }
  try {
    body = typeof raw === 'string' ? JSON.parse(raw) : raw;
  } catch (err) {
    throw new RequestValidationError([
      {
        type: 'json_invalid',
        loc: ['body', 0],
        msg: 'JSON decode error',
        input: {},
        ctx: { error: err instanceof Error ? err.message : 'Expecting value' },
      },
    ]);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RequestValidationError([
      {
        type: 'model_attributes_type',
        loc: ['body'],
        msg: 'Input should be a valid dictionary or object to extract fields from',
        input: body,
      },
    ]);
  }
  return body as Record<string, unknown>;
}

/** A string field's value as the route gets it, or the issue pydantic reports for it. */
function checkString(spec: FieldSpec, value: string, loc: string[]): { value: string } | { issue: ValidationIssue } {
  switch (spec.kind) {
    case 'string':
      if (spec.minLength !== undefined && value.length < spec.minLength) {
        return {
          issue: {
            type: 'string_too_short',
            loc,
            msg: `String should have at least ${spec.minLength} character${spec.minLength === 1 ? '' : 's'}`,
            input: value,
            ctx: { min_length: spec.minLength },
          },
        };
      }
      return { value };
    case 'email': {
      if (EMAIL.test(value)) return { value };
      const reason = value.includes('@')
        ? 'The part after the @-sign is not valid.'
        : 'An email address must have an @-sign.';
      const msg = `value is not a valid email address: ${reason}`;
      return { issue: { type: 'value_error', loc, msg, input: value, ctx: { reason } } };
    }
    case 'uuid':
      if (isUuid(value)) return { value: canonicalUuid(value) };
      return { issue: { type: 'uuid_parsing', loc, msg: 'Input should be a valid UUID', input: value } };
    case 'enum': {
      if (spec.values.includes(value)) return { value };
      const expected = spec.values.map((v) => `'${v}'`).join(' or ');
      return { issue: { type: 'enum', loc, msg: `Input should be ${expected}`, input: value, ctx: { expected } } };
    }
  }
}

/**
 * Parses a raw request body (the fake reads every body as text, so that malformed JSON and
 * wrong content types get the same answers as from FastAPI) against a flat schema.
 */
export function parseBody<S extends BodySchema>(raw: unknown, schema: S): Parsed<S> {
  const body = readObject(raw);
  const issues: ValidationIssue[] = [];
  const out: Record<string, string | undefined> = {};
  for (const [name, spec] of Object.entries(schema)) {
    const value = body[name];
    const loc = ['body', name];
    if (value === undefined || value === null) {
      if ('default' in spec && spec.default !== undefined) out[name] = spec.default;
      else if (spec.required === false) out[name] = undefined;
      else issues.push({ type: 'missing', loc, msg: 'Field required', input: body });
      continue;
    }
    if (typeof value !== 'string') {
      issues.push({ type: 'string_type', loc, msg: 'Input should be a valid string', input: value });
      continue;
    }
    const checked = checkString(spec, value, loc);
    if ('issue' in checked) issues.push(checked.issue);
    else out[name] = checked.value;
  }
  if (issues.length > 0) throw new RequestValidationError(issues);
  return out as Parsed<S>;
}

/** A UUID path parameter (FastAPI answers 422 `uuid_parsing` for anything else). */
export function uuidParam(value: string, name: string): string {
  if (!isUuid(value)) {
    throw new RequestValidationError([
      { type: 'uuid_parsing', loc: ['path', name], msg: 'Input should be a valid UUID', input: value },
    ]);
  }
  return canonicalUuid(value);
}
