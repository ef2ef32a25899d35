/**
 * A Kafka record (`recordBatch/record/v0`: length, attributes, timestamp delta, offset delta, key,
 * value, headers) in two passes: `sizeRecord` adds up its bytes and notes the byte length of every
 * key, value and header string in a list; `writeRecord` writes it into an encoder that has room,
 * taking those lengths from the same list in the same order. kafkajs measured each string twice
 * (`Buffer.byteLength` to size the record and again to write it) and wrote each record into a
 * buffer of its own before copying it into the batch; here each string is
 * measured once and written once, straight into the produce request (produce-request-fix.ts) or
 * into one exact-size buffer (produce-fix.ts' record encoder). The bytes are kafkajs' own, checked by test/unit/kafka-encoder.test.ts.
 */
import { Encoder, type KafkaEncoder } from './sized-encoder';

type Bytes = Buffer | string | null | undefined;
type HeaderValue = Buffer | string | null;

export interface RecordFields {
  offsetDelta?: number;
  timestampDelta?: number;
  key?: Bytes;
  value?: Bytes;
  headers?: Record<string, HeaderValue | HeaderValue[]>;
}

/**
 * What `sizeRecord` works out and `writeRecord` writes, in order: per record its body size, the
 * byte length of its key and value (when not null), its header count, then each header's name and
 * value lengths.
 */
export class RecordLengths {
  readonly list: number[] = [];
  at = 0;
}

const SMALL = 2 ** 30;
const NULL_SIZE = 1; // the varint -1

/** A varlong below 2^30 in size has the bytes of the same varint, without kafkajs' Long arithmetic. */
const isSmall = (delta: number) => Number.isInteger(delta) && delta > -SMALL && delta < SMALL;

function byteLength(value: Buffer | string, name: string): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (Buffer.isBuffer(value)) return value.length;
  // kafkajs throws here too (Buffer.byteLength of a number or null), for header values and others.
  throw new TypeError(`kafka ${name} must be a string or a Buffer`);
}

function sizeBytes(value: Bytes, lengths: RecordLengths, name: string): number {
  if (value == null) return NULL_SIZE;
  const n = byteLength(value, name);
  lengths.list.push(n);
  return Encoder.sizeOfVarInt(n) + n;
}

function writeBytes(out: KafkaEncoder, value: Bytes, lengths: RecordLengths): void {
  if (value == null) {
    out.writeVarInt(-1);
    return;
  }
  const n = lengths.list[lengths.at++]!;
  out.writeVarInt(n);
  // The encoder was sized for these bytes, so the string fits whole (Node's plain UTF-8 write).
  if (typeof value === 'string') out.offset += out.buf.write(value, out.offset);
  else out.writeBufferInternal(value);
}

/** Calls `each` for every header name and value, an array header once per value, in kafkajs' order. */
function eachHeader(headers: RecordFields['headers'], each: (name: string, value: HeaderValue) => void): number {
  let count = 0;
  if (!headers) return count;
  for (const name of Object.keys(headers)) {
    const v = headers[name]!;
    if (!Array.isArray(v)) {
      count += 1;
      each(name, v);
    } else
      for (const one of v) {
        count += 1;
        each(name, one);
      }
  }
  return count;
}

/** The record's whole size in bytes (its length prefix included); notes its lengths in `lengths`. */
export function sizeRecord(fields: RecordFields, lengths: RecordLengths): number {
  const { offsetDelta = 0, timestampDelta = 0, key, value, headers } = fields;
  const bodyAt = lengths.list.length;
  lengths.list.push(0); // the body size, filled in below
  let body =
    1 +
    (isSmall(timestampDelta) ? Encoder.sizeOfVarInt(timestampDelta) : Encoder.sizeOfVarLong(timestampDelta)) +
    Encoder.sizeOfVarInt(offsetDelta) +
    sizeBytes(key, lengths, 'key') +
    sizeBytes(value, lengths, 'value');
  const countAt = lengths.list.length;
  lengths.list.push(0);
  const count = eachHeader(headers, (name, v) => {
    // kafkajs throws on a null header value (Buffer.byteLength(null)); so does this.
    if (v === null) throw new TypeError(`kafka header "${name}" is null`);
    body += sizeBytes(name, lengths, 'header name') + sizeBytes(v, lengths, 'header value');
  });
  lengths.list[countAt] = count;
  body += Encoder.sizeOfVarInt(count);
  lengths.list[bodyAt] = body;
  return Encoder.sizeOfVarInt(body) + body;
}

/** Writes the record `sizeRecord` measured, with the lengths it noted (next in `lengths`). */
export function writeRecord(out: KafkaEncoder, fields: RecordFields, lengths: RecordLengths): void {
  const { offsetDelta = 0, timestampDelta = 0, key, value, headers } = fields;
  out.writeVarInt(lengths.list[lengths.at++]!).writeInt8(0);
  if (isSmall(timestampDelta)) out.writeVarInt(timestampDelta);
  else out.writeVarLong(timestampDelta);
  out.writeVarInt(offsetDelta);
  writeBytes(out, key, lengths);
  writeBytes(out, value, lengths);
  out.writeVarInt(lengths.list[lengths.at++]!);
  eachHeader(headers, (name, v) => {
    writeBytes(out, name, lengths);
    writeBytes(out, v, lengths);
  });
}
