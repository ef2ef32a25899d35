import { randomFillSync } from 'node:crypto';

/**
 * UUID text as one flat string. `crypto.randomUUID()` and text assembled from pieces
 * (`${hex.slice(0, 8)}-…`) are V8 cons strings: a tree of a dozen or more small strings, about
 * 490 bytes of heap per id where the text needs 88, held for as long as the id is (a request's
 * log lines, its access event waiting for Kafka), and walked or flattened at each use. Here the 36
 * characters are written into a scratch buffer and read out once as a single Latin-1 string.
 */
const HEX = Buffer.from('0123456789abcdef', 'latin1');
const scratch = Buffer.alloc(36);

/** The canonical 8-4-4-4-12 lower-case text of the 16 bytes at `offset` of `bytes`. */
export function uuidText(bytes: Uint8Array, offset = 0): string {
  let o = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) scratch[o++] = 0x2d;
    const b = bytes[offset + i]!;
    scratch[o++] = HEX[b >> 4]!;
    scratch[o++] = HEX[b & 15]!;
  }
  return scratch.toString('latin1', 0, 36);
}

/**
 * The text of the 16 bytes at `bytes` stamped with UUID `version` and the RFC 9562 variant (the
 * bytes are changed in place): 4 random, 7 time-ordered, 8 name-based (SHA-256).
 */
export function versionedUuid(bytes: Uint8Array, version: 4 | 7 | 8): string {
  bytes[6] = (bytes[6]! & 0x0f) | (version << 4);
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  return uuidText(bytes);
}

/** Random bytes drawn 4 KiB at a time: one `randomFillSync` per few hundred ids, not one per id. */
const entropy = Buffer.alloc(4096);
let entropyOffset = entropy.length;

/** Copies `n` (at most 16) random bytes from the pool into `target` at `offset`. */
function randomInto(target: Uint8Array, offset: number, n: number): void {
  if (entropyOffset + n > entropy.length) {
    randomFillSync(entropy);
    entropyOffset = 0;
  }
  entropy.copy(target, offset, entropyOffset, entropyOffset + n);
  entropyOffset += n;
}

const idBytes = Buffer.alloc(16);

/** A random UUID (version 4, RFC 9562), as `crypto.randomUUID()` makes, from the same CSPRNG. */
export function randomUuid(): string {
  randomInto(idBytes, 0, 16);
  return versionedUuid(idBytes, 4);
}

/** A time-ordered UUID (version 7, RFC 9562): 48 bits of Unix milliseconds, then 74 random bits. */
export function timeOrderedUuid(now: number): string {
  randomInto(idBytes, 6, 10);
  idBytes.writeUIntBE(now, 0, 6);
  return versionedUuid(idBytes, 7);
}
