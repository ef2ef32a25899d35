import { EntitySchema, OptionalProps, PrimaryKeyProp } from '@mikro-orm/core';

/**
 * A claimed `Idempotency-Key` (gateway-http.md, Conventions → Idempotency): the first request with
 * a key claims it (`in_progress`), its answer is stored (`completed`) and replayed to retries with
 * the same request until `expiresAt`. `response` is the sealed (encrypted) headers and body.
 */
export class IdempotencyKey {
  [PrimaryKeyProp]?: ['scope', 'key'];
  [OptionalProps]?: 'createdAt' | 'status' | 'response' | 'completedAt';
  scope!: string;
  key!: string;
  requestHash!: string;
  state!: 'in_progress' | 'completed';
  /** Token of the request holding the claim; only it may complete or release the key. */
  owner!: string;
  sealKeyId!: string;
  status: number | null = null;
  response: Buffer | null = null;
  createdAt: Date = new Date();
  lockedUntil!: Date;
  completedAt: Date | null = null;
  expiresAt!: Date;
}

export const IdempotencyKeySchema = new EntitySchema<IdempotencyKey>({
  class: IdempotencyKey,
  tableName: 'idempotency_keys',
  properties: {
    scope: { type: 'text', primary: true },
    key: { type: 'text', primary: true },
    requestHash: { type: 'text' },
    state: { type: 'text' },
    owner: { type: 'uuid' },
    sealKeyId: { type: 'text' },
    status: { type: 'integer', nullable: true },
    response: { type: 'blob', nullable: true },
    createdAt: { type: 'Date', columnType: 'timestamptz', defaultRaw: 'now()' },
    lockedUntil: { type: 'Date', columnType: 'timestamptz' },
    completedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    expiresAt: { type: 'Date', columnType: 'timestamptz' },
  },
});
