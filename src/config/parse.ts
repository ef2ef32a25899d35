import { isIP } from 'node:net';

/** The parsers of environment values and the `v` that declares a variable with one of them. */

export type Parser<T> = (raw: string) => T;

/** A bad value: the loader reports it as one problem, prefixed with the variable's name. */
export class ValueError extends Error {}

export const integer =
  (min: number, max: number): Parser<number> =>
  (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) throw new ValueError(`must be an integer (got "${raw}")`);
    const n = Number(raw);
    if (n < min || n > max) throw new ValueError(`must be between ${min} and ${max} (got ${n})`);
    return n;
  };

export const boolean: Parser<boolean> = (raw) => {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ValueError(`must be true or false (got "${raw}")`);
};

export const text: Parser<string> = (raw) => raw.trim();

export const nonEmpty: Parser<string> = (raw) => {
  const v = raw.trim();
  if (!v) throw new ValueError('must not be empty');
  return v;
};

export const oneOf =
  <T extends string>(...allowed: T[]): Parser<T> =>
  (raw) => {
    const v = raw.trim() as T;
    if (!allowed.includes(v)) throw new ValueError(`must be one of ${allowed.join(', ')} (got "${raw}")`);
    return v;
  };

export const list: Parser<string[]> = (raw) =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export const httpUrl: Parser<string> = (raw) => {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ValueError(`must be an http(s) URL (got "${raw}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ValueError(`must be an http(s) URL (got "${raw}")`);
  return url.toString().replace(/\/$/, '');
};

const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

/** JWT algorithms: asymmetric only, so a public key can never be used as an HMAC secret. */
export const algorithms: Parser<string[]> = (raw) => {
  const items = list(raw);
  if (items.length === 0) throw new ValueError('must list at least one algorithm');
  const bad = items.filter((a) => !ASYMMETRIC_ALGORITHMS.includes(a));
  if (bad.length) throw new ValueError(`may only contain ${ASYMMETRIC_ALGORITHMS.join(', ')} (got ${bad.join(', ')})`);
  return items;
};

/**
 * Which proxies may set X-Forwarded-For: `false`, a hop count, or a comma list of IPs/CIDRs.
 * `true` (trust every hop) is refused: any client could then choose its own IP.
 */
export const trustProxy: Parser<false | number | string[]> = (raw) => {
  const v = raw.trim().toLowerCase();
  if (v === '' || v === 'false' || v === '0') return false;
  if (v === 'true' || v === '*')
    throw new ValueError('must be a hop count or a CIDR list of trusted proxies; "true" would trust any client');
  if (/^\d+$/.test(v)) return integer(1, 10)(v);
  const items = list(v);
  for (const item of items) {
    const [addr, prefix, ...rest] = item.split('/');
    const family = isIP(addr ?? '');
    const max = family === 6 ? 128 : 32;
    if (!family || rest.length || (prefix !== undefined && !(/^\d+$/.test(prefix) && Number(prefix) <= max)))
      throw new ValueError(`"${item}" is not an IP address or CIDR`);
  }
  return items;
};

export const optionalHttpUrl: Parser<string | undefined> = (raw) => (raw.trim() ? httpUrl(raw) : undefined);

/** Accepts the original gateway's SQLAlchemy-style `postgresql+asyncpg://` URLs too. */
export const postgresUrl: Parser<string> = (raw) => {
  const v = raw.trim().replace(/^postgres(ql)?\+\w+:\/\//, 'postgresql://');
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new ValueError('must be a postgresql:// URL');
  }
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:')
    throw new ValueError('must be a postgresql:// URL');
  if (!url.hostname || url.pathname.length < 2) throw new ValueError('must name a host and a database');
  return v;
};

export const brokers: Parser<string[]> = (raw) => {
  const items = list(raw);
  if (items.length === 0) throw new ValueError('must list at least one host:port');
  for (const b of items) {
    if (!/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/.test(b)) throw new ValueError(`"${b}" is not host:port`);
  }
  return items;
};

export const hostPort: Parser<string> = (raw) => {
  const v = raw.trim();
  if (!/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/.test(v)) throw new ValueError(`must be host:port (got "${raw}")`);
  return v;
};

export const topic: Parser<string> = (raw) => {
  const v = raw.trim();
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(v)) throw new ValueError(`is not a valid Kafka topic name (got "${raw}")`);
  return v;
};

/** Durations as milliseconds or with a unit: `500ms`, `30s`, `15m`, `12h`, `7d`. */
export const duration: Parser<number> = (raw) => {
  const m = /^(\d+)\s*(ms|s|m|h|d)?$/.exec(raw.trim());
  if (!m) throw new ValueError(`must be a duration like 30s, 15m, 7d or milliseconds (got "${raw}")`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 'ms') as 'ms'];
  const ms = Number(m[1]) * unit;
  if (ms <= 0) throw new ValueError('must be greater than zero');
  return ms;
};

export interface CodecKey {
  id: string;
  key: Buffer;
}

/** `id:base64key[,id2:base64key2]` — the first key encrypts, every key decrypts (rotation by adding a key). */
export const codecKeys: Parser<CodecKey[]> = (raw) =>
  list(raw).map((entry) => {
    const idx = entry.indexOf(':');
    if (idx <= 0) throw new ValueError('entries must be keyId:base64Key');
    const id = entry.slice(0, idx);
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) throw new ValueError(`key id "${id}" may only use letters, digits, . _ -`);
    const key = Buffer.from(entry.slice(idx + 1), 'base64');
    if (key.length !== 32) throw new ValueError(`key "${id}" must be 32 bytes of base64 (AES-256), got ${key.length}`);
    return { id, key };
  });

export interface Variable<T> {
  default: string;
  parse: Parser<T>;
  description: string;
  secret?: boolean;
}

export const v = <T>(def: string, parse: Parser<T>, description: string, secret = false): Variable<T> => ({
  default: def,
  parse,
  description,
  secret,
});
