import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import type { Sql } from '../db/database';
import type { CodecKey } from '../config';
import { sha256Hex } from '../lib/hash';
import { DEVELOPMENT_CODEC_KEY } from '../temporal/codec';
import { INSTANCE_LOCK_CLASS } from './instance';

/**
 * The Idempotency-Key store (gateway-http.md, Conventions → Idempotency) in PostgreSQL.
 *
 * A key is claimed with one `insert … on conflict` (so two replicas cannot both claim it), the
 * answer is stored when the first request completes, and a retry with the same request gets that
 * answer back. Answers of sign-in, sign-up and invites carry tokens, and request bodies carry
 * passwords, so the table holds only an HMAC of the request and an AES-256-GCM sealed answer, with
 * keys derived (HKDF) from TEMPORAL_CODEC_KEYS: the first key seals, every key opens.
 */

export interface StoredResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

export type ClaimResult =
  | { outcome: 'claimed'; owner: string }
  | { outcome: 'replay'; response: StoredResponse }
  /** `retryAfterSec`: when a retry may find the first request done, or its dead holder's claim free. */
  | { outcome: 'in_progress'; retryAfterSec: number }
  | { outcome: 'mismatch' };

export interface IdempotencyRequest {
  scope: string;
  key: string;
  /** Canonical form of what makes two requests "the same" (body, params, query). */
  fingerprint: string;
}

interface SealKey {
  id: string;
  enc: Buffer;
  mac: Buffer;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;
const MAX_CLAIM_ATTEMPTS = 3;
/** Covers a live instance taking its lock again after a database restart (it retries every second). */
export const DEFAULT_TAKEOVER_GRACE_MS = 5_000;
const PURGE_CHUNK = 1000;

function derive(key: CodecKey): SealKey {
  const sub = (info: string) => Buffer.from(hkdfSync('sha256', key.key, Buffer.alloc(0), info, 32));
  return { id: key.id, enc: sub('idempotency-store/seal'), mac: sub('idempotency-store/request-hash') };
}

/** JSON with object keys sorted, so the same request always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Buffer.isBuffer(value)) return JSON.stringify(value.toString('base64'));
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** A short, stable, non-reversible label for a credential (scopes must not store tokens). */
export function credentialDigest(value: string): string {
  return sha256Hex(value).slice(0, 32);
}

interface ExistingRow {
  owner: string;
  request_hash: string;
  state: 'in_progress' | 'completed';
  seal_key_id: string;
  status: number | null;
  response: Buffer | null;
  holder_alive: boolean;
}

/** The liveness of the gateway instances (instance.ts) that this store's claims record. */
export interface ClaimInstance {
  lockId: number;
  /** Whether the lock is held now (a claim made without it names no instance: it waits for locked_until). */
  readonly holding: boolean;
  heldForMs(): number;
}

/** SQL: the instance advisory lock with id `column` is held by a live session of this database. */
const HELD = (column: string) =>
  `exists (select 1 from pg_locks l
            where l.locktype = 'advisory' and l.granted and l.objsubid = 2
              and l.classid = ${INSTANCE_LOCK_CLASS}::oid and l.objid = (${column})::oid
              and l.database = (select oid from pg_database where datname = current_database()))`;

export class IdempotencyStore {
  private readonly keys: Map<string, SealKey>;
  private readonly active: SealKey;

  private readonly takeoverGraceMs: number;

  constructor(
    private readonly db: Sql,
    private readonly options: {
      ttlMs: number;
      lockTimeoutMs: number;
      keys: CodecKey[];
      instance?: ClaimInstance;
      /** How long this instance must have held its own lock before it takes a dead instance's claims over. */
      takeoverGraceMs?: number;
    },
  ) {
    this.takeoverGraceMs = options.takeoverGraceMs ?? DEFAULT_TAKEOVER_GRACE_MS;
    const derived = (options.keys.length ? options.keys : [DEVELOPMENT_CODEC_KEY]).map(derive);
    this.active = derived[0]!;
    this.keys = new Map(derived.map((k) => [k.id, k]));
  }

  private requestHash(key: SealKey, req: IdempotencyRequest): string {
    return createHmac('sha256', key.mac).update(req.fingerprint).digest('hex');
  }

  private aad(scope: string, key: string): Buffer {
    return Buffer.from(`${scope}\n${key}`);
  }

  private seal(req: { scope: string; key: string }, response: Omit<StoredResponse, 'status'>): Buffer {
    const head = Buffer.from(JSON.stringify(response.headers));
    const len = Buffer.alloc(4);
    len.writeUInt32BE(head.length);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.active.enc, iv);
    cipher.setAAD(this.aad(req.scope, req.key));
    const body = Buffer.concat([cipher.update(Buffer.concat([len, head, response.body])), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]);
  }

  private open(req: { scope: string; key: string }, key: SealKey, data: Buffer): Omit<StoredResponse, 'status'> {
    const decipher = createDecipheriv('aes-256-gcm', key.enc, data.subarray(0, IV_BYTES));
    decipher.setAAD(this.aad(req.scope, req.key));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    const plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    const headLength = plain.readUInt32BE(0);
    const headers = JSON.parse(plain.subarray(4, 4 + headLength).toString('utf8')) as StoredResponse['headers'];
    return { headers, body: plain.subarray(4 + headLength) };
  }

  /**
   * Claims the key for this request, or says what to do instead: replay the stored answer, refuse
   * a different request under the same key, or refuse while the first is still running. An expired
   * key is taken over; so is a claim with the same request whose holder is gone: its lock ran out
   * (`lockTimeoutMs`), or the gateway instance that made it no longer holds its instance lock
   * (instance.ts) while this one has held its own for `takeoverGraceMs` (after a database restart
   * every live instance has taken its lock again by then, so a live claim is never taken).
   */
  async claim(req: IdempotencyRequest): Promise<ClaimResult> {
    const owner = randomUUID();
    const hash = this.requestHash(this.active, req);
    const instance = this.options.instance;
    const lockId = instance?.holding ? instance.lockId : null;
    const established = instance !== undefined && instance.heldForMs() >= this.takeoverGraceMs;
    for (let attempt = 0; attempt < MAX_CLAIM_ATTEMPTS; attempt++) {
      const claimed = await this.db.execute<{ owner: string }[]>(
        `insert into idempotency_keys as k
           (scope, key, request_hash, state, owner, seal_key_id, locked_until, expires_at, instance_lock)
         values ($1, $2, $3, 'in_progress', $4, $5, now() + $6::double precision * interval '1 millisecond', now() + $7::double precision * interval '1 millisecond', $8)
         on conflict (scope, key) do update
           set request_hash = excluded.request_hash, state = 'in_progress', owner = excluded.owner,
               seal_key_id = excluded.seal_key_id, status = null, response = null, created_at = now(),
               completed_at = null, locked_until = excluded.locked_until, expires_at = excluded.expires_at,
               instance_lock = excluded.instance_lock
         where k.expires_at <= now()
            or (k.state = 'in_progress' and k.request_hash = excluded.request_hash
                and (k.locked_until <= now()
                     or ($9::boolean and k.instance_lock is not null and not ${HELD('k.instance_lock')}
                         and ${HELD('excluded.instance_lock')})))
         returning owner`,
        [
          req.scope,
          req.key,
          hash,
          owner,
          this.active.id,
          this.options.lockTimeoutMs,
          this.options.ttlMs,
          lockId,
          established,
        ],
      );
      if (claimed[0]?.owner === owner) return { outcome: 'claimed', owner };

      const [row] = await this.db.execute<ExistingRow[]>(
        `select owner, request_hash, state, seal_key_id, status, response,
                (instance_lock is null or ${HELD('instance_lock')}) as holder_alive
           from idempotency_keys where scope = $1 and key = $2 and expires_at > now()`,
        [req.scope, req.key],
      );
      if (!row) continue; // released or expired meanwhile: claim again
      const sealKey = this.keys.get(row.seal_key_id);
      if (!sealKey) {
        // Sealed with a key no longer configured: the answer cannot be read, so the key starts over.
        await this.db.execute<object[]>('delete from idempotency_keys where scope = $1 and key = $2 and owner = $3', [
          req.scope,
          req.key,
          row.owner,
        ]);
        continue;
      }
      if (row.request_hash !== this.requestHash(sealKey, req)) return { outcome: 'mismatch' };
      if (row.state === 'in_progress' || row.response === null || row.status === null) {
        // A dead holder's claim is taken over once this instance is established (or from another one).
        const graceLeftMs = this.takeoverGraceMs - (instance?.heldForMs() ?? 0);
        const retryAfterSec = row.holder_alive ? 1 : Math.max(1, Math.ceil(graceLeftMs / 1000));
        return { outcome: 'in_progress', retryAfterSec };
      }
      return { outcome: 'replay', response: { status: row.status, ...this.open(req, sealKey, row.response) } };
    }
    return { outcome: 'in_progress', retryAfterSec: 1 };
  }

  /** Stores the answer of the request that holds the claim; false if the claim was lost meanwhile. */
  async complete(req: { scope: string; key: string }, owner: string, response: StoredResponse): Promise<boolean> {
    const rows = await this.db.execute<{ owner: string }[]>(
      `update idempotency_keys
          set state = 'completed', status = $1, response = $2, seal_key_id = $3, completed_at = now()
        where scope = $4 and key = $5 and owner = $6 and state = 'in_progress'
        returning owner`,
      [response.status, this.seal(req, response), this.active.id, req.scope, req.key, owner],
    );
    return rows.length > 0;
  }

  /** Pushes the claim's lock `lockTimeoutMs` ahead while its request runs; false once the claim is gone. */
  async extendLock(req: { scope: string; key: string }, owner: string): Promise<boolean> {
    const rows = await this.db.execute<{ owner: string }[]>(
      `update idempotency_keys set locked_until = now() + $1::double precision * interval '1 millisecond'
        where scope = $2 and key = $3 and owner = $4 and state = 'in_progress'
        returning owner`,
      [this.options.lockTimeoutMs, req.scope, req.key, owner],
    );
    return rows.length > 0;
  }

  /** Gives the key up (the request failed in a way a retry should re-run). */
  async release(req: { scope: string; key: string }, owner: string): Promise<void> {
    await this.db.execute<object[]>(
      `delete from idempotency_keys where scope = $1 and key = $2 and owner = $3 and state = 'in_progress'`,
      [req.scope, req.key, owner],
    );
  }

  /** Deletes expired keys in small chunks; returns how many. */
  async purgeExpired(): Promise<number> {
    let total = 0;
    for (;;) {
      const rows = await this.db.execute<{ n: number }[]>(
        `with gone as (
           delete from idempotency_keys
            where ctid = any(array(select ctid from idempotency_keys where expires_at <= now() limit $1))
            returning 1)
         select count(*)::int as n from gone`,
        [PURGE_CHUNK],
      );
      const n = rows[0]?.n ?? 0;
      total += n;
      if (n < PURGE_CHUNK) return total;
    }
  }
}
