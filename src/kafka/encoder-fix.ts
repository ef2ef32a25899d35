/**
 * kafkajs 2.2.4's protocol encoder allocates on every write: each varint goes through a new array
 * and a new Buffer, then a copy through a fresh typed-array view, and a full buffer grows into a
 * new zero-filled one. Encoding one access event (a record with three headers, about ten varints)
 * was about 5 % of the gateway's busy time on the direct path, plus its share of GC. These three
 * methods write the same bytes straight into the encoder's buffer, and grow it without zero-filling
 * (only bytes up to `offset` are ever read). A private internal of kafkajs
 * (docs/adr/0008-private-internals.md), guarded by test/unit/kafka-encoder.test.ts, which compares
 * every byte with kafkajs' own encoder; kafkajs is pinned in package.json.
 */
interface EncoderInternals {
  buf: Buffer;
  offset: number;
  ensureAvailable: (this: EncoderInternals, length: number) => void;
  writeBufferInternal: (this: EncoderInternals, buffer: Buffer) => void;
  writeUVarInt: (this: EncoderInternals, value: number) => EncoderInternals;
}

interface EncoderClass {
  prototype: EncoderInternals;
  nextPowerOfTwo(value: number): number;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const Encoder = require('kafkajs/src/protocol/encoder') as EncoderClass;

const PATCHED = Symbol.for('durable-gateway.kafkajs-encoder-fix');
const proto = Encoder.prototype as EncoderInternals & { [PATCHED]?: true };

if (!proto[PATCHED]) {
  proto.ensureAvailable = function (length) {
    if (this.offset + length <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(this.offset + length));
    this.buf.copy(grown, 0, 0, this.offset);
    this.buf = grown;
  };
  proto.writeBufferInternal = function (buffer) {
    this.ensureAvailable(buffer.length);
    this.buf.set(buffer, this.offset);
    this.offset += buffer.length;
  };
  // LEB128 of an unsigned 32-bit value, as kafkajs writes it (at most 5 bytes).
  proto.writeUVarInt = function (value) {
    this.ensureAvailable(5);
    const buf = this.buf;
    let offset = this.offset;
    while ((value & 0xffffff80) !== 0) {
      buf[offset++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    buf[offset++] = value & 0x7f;
    this.offset = offset;
    return this;
  };
  proto[PATCHED] = true;
}

export {};
