import { createHash } from 'node:crypto';

/** SHA-256 of the UTF-8 text, as 64 lowercase hex characters. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** SHA-256 of the UTF-8 text, as its 32 raw bytes (key material, name-based ids). */
export function sha256Bytes(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
