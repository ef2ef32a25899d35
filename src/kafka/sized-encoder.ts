/**
 * kafkajs' protocol encoder as the gateway's fixes write through it (produce-fix.ts,
 * produce-request-fix.ts): its own methods, with encoder-fix.ts' versions where that replaces them.
 * A private internal of kafkajs (docs/adr/0008-private-internals.md); kafkajs is pinned.
 */
export interface KafkaEncoder {
  buf: Buffer;
  offset: number;
  writeInt8(v: number): KafkaEncoder;
  writeInt16(v: number): KafkaEncoder;
  writeInt32(v: number): KafkaEncoder;
  writeUInt32(v: number): KafkaEncoder;
  writeInt64(v: unknown): KafkaEncoder;
  writeString(v: string | null): KafkaEncoder;
  writeVarInt(v: number): KafkaEncoder;
  writeVarLong(v: number): KafkaEncoder;
  writeBufferInternal(v: Buffer): void;
}

export interface KafkaEncoderClass {
  prototype: KafkaEncoder;
  sizeOfVarInt(v: number): number;
  sizeOfVarLong(v: number): number;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const Encoder = require('kafkajs/src/protocol/encoder') as KafkaEncoderClass;

/**
 * A kafkajs encoder over a buffer of `size` bytes (from Node's pool when small) that its writes
 * never grow: 4 bytes to spare, since kafkajs asks for 5 before every varint, whatever its length.
 */
export function sizedEncoder(size: number): KafkaEncoder {
  const encoder = Object.create(Encoder.prototype) as KafkaEncoder;
  encoder.buf = Buffer.allocUnsafe(size + 4);
  encoder.offset = 0;
  return encoder;
}
