/**
 * Costs of kafkajs 2.2.4's produce path that grow with the batch, paid on every access event
 * (docs/performance.md):
 *
 * - `groupMessagesPerPartition` copies a partition's list for every message (`[...current,
 *   message]`): quadratic in the batch. Here each message is pushed once; same groups, same order.
 * - a record (`recordBatch/record/v0`) is encoded through a new zero-filled 512-byte encoder for the
 *   record and one more for each header, then copied. Here one encoder of the record's exact size
 *   (from Node's buffer pool) takes the same bytes in one pass.
 * - the batch's CRC-32C (`recordBatch/crc32C`) is computed a byte at a time (4 ns per byte, about
 *   2.5 µs per access event); here eight bytes per step (src/kafka/crc32c.ts), about 5× faster.
 *
 * The three modules are replaced in Node's module cache, so this file must load before the modules
 * that capture them (`producer/sendMessages`, loaded with kafkajs' index;
 * `protocol/requests/produce/v3/request` and `recordBatch/v0`, loaded at the first produce or
 * fetch): src/kafka/fixes.ts is imported before `kafkajs` everywhere, and loading it late throws
 * instead of doing nothing.
 * A private internal of kafkajs (docs/adr/0008-private-internals.md), guarded by
 * test/unit/kafka-encoder.test.ts, which compares every byte with kafkajs' own; kafkajs is pinned.
 */
import { crc32c } from './crc32c';
import { replaceModule } from './replace-module';
import { Encoder, sizedEncoder, type KafkaEncoder } from './sized-encoder';

type HeaderValue = Buffer | string | null;

interface RecordInput {
  offsetDelta?: number;
  timestampDelta?: number;
  key?: Buffer | string | null;
  value?: Buffer | string | null;
  headers?: Record<string, HeaderValue | HeaderValue[]>;
}

interface Message {
  partition?: number;
}

type Partitioner = (args: { topic: string; partitionMetadata: unknown[]; message: Message }) => number;

const SMALL = 2 ** 30;
const PATCHED = Symbol.for('durable-gateway.kafkajs-produce-fix');
const registry = globalThis as { [PATCHED]?: true };

if (!registry[PATCHED]) {
  const groupMessagesPerPartition = ({
    topic,
    partitionMetadata,
    messages,
    partitioner,
  }: {
    topic: string;
    partitionMetadata: unknown[];
    messages: Message[];
    partitioner: Partitioner;
  }): Record<number, Message[]> => {
    const groups: Record<number, Message[]> = {};
    if (partitionMetadata.length === 0) return groups;
    for (const message of messages) {
      const partition = partitioner({ topic, partitionMetadata, message });
      (groups[partition] ??= []).push(message);
    }
    return groups;
  };

  const record = ({ offsetDelta = 0, timestampDelta = 0, key, value, headers = {} }: RecordInput): KafkaEncoder => {
    const pairs: [string, HeaderValue][] = [];
    for (const name of Object.keys(headers)) {
      const v = headers[name]!;
      if (Array.isArray(v)) for (const each of v) pairs.push([name, each]);
      else pairs.push([name, v]);
    }
    let headersSize = Encoder.sizeOfVarInt(pairs.length);
    for (const [name, v] of pairs) {
      const keySize = Buffer.byteLength(name);
      headersSize += Encoder.sizeOfVarInt(keySize) + keySize;
      // kafkajs throws on a null header value (Buffer.byteLength(null)); so does this.
      if (v === null) throw new TypeError(`kafka header "${name}" is null`);
      const valueSize = Buffer.byteLength(v);
      headersSize += Encoder.sizeOfVarInt(valueSize) + valueSize;
    }
    // A varlong below 2^30 in size has the bytes of the same varint, without kafkajs' Long arithmetic.
    const smallDelta = Number.isInteger(timestampDelta) && timestampDelta > -SMALL && timestampDelta < SMALL;
    const sizeOfBody =
      1 +
      (smallDelta ? Encoder.sizeOfVarInt(timestampDelta) : Encoder.sizeOfVarLong(timestampDelta)) +
      Encoder.sizeOfVarInt(offsetDelta) +
      Encoder.sizeOfVarIntBytes(key) +
      Encoder.sizeOfVarIntBytes(value) +
      headersSize;
    const encoder = sizedEncoder(Encoder.sizeOfVarInt(sizeOfBody) + sizeOfBody);
    encoder.writeVarInt(sizeOfBody).writeInt8(0);
    if (smallDelta) encoder.writeVarInt(timestampDelta);
    else encoder.writeVarLong(timestampDelta);
    encoder.writeVarInt(offsetDelta).writeVarIntBytes(key).writeVarIntBytes(value).writeVarInt(pairs.length);
    for (const [name, v] of pairs) encoder.writeVarIntString(name).writeVarIntBytes(v);
    return encoder;
  };

  replaceModule(
    'kafkajs/src/producer/groupMessagesPerPartition',
    'kafkajs/src/producer/sendMessages',
    groupMessagesPerPartition,
  );
  replaceModule(
    'kafkajs/src/protocol/recordBatch/record/v0',
    'kafkajs/src/protocol/requests/produce/v3/request',
    record,
  );
  replaceModule(
    'kafkajs/src/protocol/recordBatch/crc32C',
    'kafkajs/src/protocol/recordBatch/v0',
    function crc32C(buffer: Buffer) {
      return crc32c(buffer);
    },
  );
  registry[PATCHED] = true;
}

export {};
