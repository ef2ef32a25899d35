import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { CodecKey } from '../config';

export const ENCODING = 'binary/encrypted';
export const METADATA_ENCODING = 'encoding';
export const METADATA_KEY_ID = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * Development-only key, so a laptop run works without setup. `loadConfig` refuses to start in
 * production without TEMPORAL_CODEC_KEYS, so this key never protects real data.
 */
export const DEVELOPMENT_CODEC_KEY: CodecKey = {
  id: 'dev-insecure',
  key: Buffer.from('ZGV2LW9ubHkta2V5LWRvLW5vdC11c2UtaW4tcHJvZCE=', 'base64'),
};

/**
 * AES-256-GCM payload codec: each payload (metadata and data) is serialised and encrypted as a
 * whole, so Temporal stores neither values nor their encodings in plaintext. The key id travels
 * in metadata; the first key encrypts, any configured key decrypts (rotation = prepend a key).
 */
export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly keys: Map<string, Buffer>;
  private readonly active: CodecKey;

  constructor(keys: CodecKey[]) {
    if (keys.length === 0) throw new Error('AesGcmPayloadCodec needs at least one key');
    this.active = keys[0]!;
    this.keys = new Map(keys.map((k) => [k.id, k.key]));
  }

  static fromConfig(keys: CodecKey[]): AesGcmPayloadCodec {
    return new AesGcmPayloadCodec(keys.length ? keys : [DEVELOPMENT_CODEC_KEY]);
  }

  get activeKeyId(): string {
    return this.active.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.encryptOne(p));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.decryptOne(p));
  }

  private encryptOne(payload: Payload): Payload {
    const plain = temporal.api.common.v1.Payload.encode(payload).finish();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.active.key, iv);
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return {
      metadata: {
        [METADATA_ENCODING]: enc.encode(ENCODING),
        [METADATA_KEY_ID]: enc.encode(this.active.id),
      },
      data: Buffer.concat([iv, body, cipher.getAuthTag()]),
    };
  }

  private decryptOne(payload: Payload): Payload {
    const encoding = payload.metadata?.[METADATA_ENCODING];
    if (!encoding || dec.decode(encoding) !== ENCODING) return payload;
    const keyIdBytes = payload.metadata?.[METADATA_KEY_ID];
    const keyId = keyIdBytes ? dec.decode(keyIdBytes) : '';
    const key = this.keys.get(keyId);
    if (!key) throw new Error(`payload encrypted with unknown key id "${keyId}"`);
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES) throw new Error('encrypted payload is truncated');
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    const plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    return temporal.api.common.v1.Payload.decode(plain);
  }
}
