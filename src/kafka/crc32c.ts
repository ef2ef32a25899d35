/**
 * CRC-32C (Castagnoli), the checksum of a Kafka record batch, eight bytes per step ("slicing by
 * 8"): eight 256-entry tables instead of kafkajs' one, a few times faster than its byte-at-a-time
 * loop on the batches an access-event producer sends (tens of KB). Same result for every input;
 * test/unit/kafka-encoder.test.ts compares whole record batches with kafkajs' own.
 */
const POLY = 0x82f63b78; // reflected Castagnoli polynomial

const T = new Int32Array(8 * 256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  T[n] = c;
}
for (let n = 0; n < 256; n++) {
  let c = T[n]!;
  for (let k = 1; k < 8; k++) {
    c = T[c & 0xff]! ^ (c >>> 8);
    T[k * 256 + n] = c;
  }
}

/** The CRC-32C of `buf`, as an unsigned 32-bit integer. */
export function crc32c(buf: Uint8Array): number {
  let crc = -1;
  let i = 0;
  const whole = buf.length & ~7;
  for (; i < whole; i += 8) {
    crc ^= buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
    crc =
      T[0x700 + (crc & 0xff)]! ^
      T[0x600 + ((crc >>> 8) & 0xff)]! ^
      T[0x500 + ((crc >>> 16) & 0xff)]! ^
      T[0x400 + (crc >>> 24)]! ^
      T[0x300 + buf[i + 4]!]! ^
      T[0x200 + buf[i + 5]!]! ^
      T[0x100 + buf[i + 6]!]! ^
      T[buf[i + 7]!]!;
  }
  for (; i < buf.length; i++) crc = T[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}
