import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { CodecKey } from '../config';

/** Prefix of a sealed string; anything else is taken as plaintext from a run started before sealing. */
export const SEALED_PREFIX = 'sealed:v1:';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Development-only key, so a laptop run works without setup; `loadConfig` refuses production
 * without TEMPORAL_SECRETS_KEYS, so it never protects real data.
 */
export const DEVELOPMENT_SECRETS_KEY: CodecKey = {
  id: 'dev-secrets',
  key: Buffer.from('ZGV2LW9ubHktc2VjcmV0cy1rZXktbm90LWZvci1wcm8=', 'base64'),
};

interface DerivedKey {
  id: string;
  seal: Buffer;
  proof: Buffer;
}

const derive = (key: Buffer, label: string) => Buffer.from(hkdfSync('sha256', key, '', label, 32));

/**
 * Secrets that travel through Temporal (passwords, access/refresh tokens, invite tokens), sealed
 * with AES-256-GCM under TEMPORAL_SECRETS_KEYS: a key only the API and the worker's activities
 * hold, unlike the payload codec keys the codec endpoint (Temporal UI) decrypts with. Workflows
 * pass sealed strings along without opening them. The same keys (another HKDF label) key the
 * sign-up credential proof. First key seals, every key opens (rotation = prepend a key).
 */
export class SecretBox {
  private readonly keys: DerivedKey[];

  constructor(keys: CodecKey[]) {
    if (keys.length === 0) throw new Error('SecretBox needs at least one key');
    this.keys = keys.map((k) => ({
      id: k.id,
      seal: derive(k.key, 'gateway temporal secrets: seal'),
      proof: derive(k.key, 'gateway temporal secrets: sign-up credential proof'),
    }));
  }

  static fromConfig(keys: CodecKey[]): SecretBox {
    return new SecretBox(keys.length ? keys : [DEVELOPMENT_SECRETS_KEY]);
  }

  /** `sealed:v1:<key id>:<base64url(iv | ciphertext | tag)>`; `purpose` is bound as associated data. */
  seal(plain: string, purpose = 'secret'): string {
    const key = this.keys[0]!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key.seal, iv);
    cipher.setAAD(Buffer.from(purpose));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${SEALED_PREFIX}${key.id}:${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
  }

  /** The plaintext of a sealed string; a string without the prefix is returned as it is (older runs). */
  open(value: string, purpose = 'secret'): string {
    if (!value.startsWith(SEALED_PREFIX)) return value;
    const rest = value.slice(SEALED_PREFIX.length);
    const colon = rest.indexOf(':');
    const key = this.keys.find((k) => k.id === rest.slice(0, colon));
    if (colon <= 0 || !key) throw new Error('sealed with an unknown key id');
    const data = Buffer.from(rest.slice(colon + 1), 'base64url');
    if (data.length < IV_BYTES + TAG_BYTES) throw new Error('sealed value is truncated');
    const decipher = createDecipheriv('aes-256-gcm', key.seal, data.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(purpose));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    return Buffer.concat([
      decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  }

  sealJson(value: unknown, purpose = 'secret'): string {
    return this.seal(JSON.stringify(value), purpose);
  }

  /** A sealed JSON value; a value that is not a string is plaintext from an older run. */
  openJson<T>(value: string | T, purpose = 'secret'): T {
    return typeof value === 'string' ? (JSON.parse(this.open(value, purpose)) as T) : value;
  }

  /**
   * What proves "the same e-mail and password" to a running sign-up without revealing either: an
   * HMAC under each configured key (the run keeps the first; a joiner sends all, so a rotation
   * in between still matches).
   */
  credentialProofs(email: string, password: string): string[] {
    return this.keys.map((k) => createHmac('sha256', k.proof).update(`${email}\n${password}`).digest('base64url'));
  }
}
