/**
 * Costs of kafkajs 2.2.4's produce path that grow with the batch, paid on every access event
 * (docs/performance.md):
 *
 * - `groupMessagesPerPartition` copies a partition's list for every message (`[...current,
 *   message]`): quadratic in the batch. Here each message is pushed once; same groups, same order.
 * - a record (`recordBatch/record/v0`) is encoded through a new zero-filled 512-byte encoder for the
 *   record and one more for each header, then copied. Here one encoder of the record's exact size
 *   (from Node's buffer pool) takes the same bytes in one pass (record-writer.ts); an uncompressed
 *   produce request writes its records straight into the request (produce-request-fix.ts).
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
import { RecordLengths, sizeRecord, writeRecord, type RecordFields } from './record-writer';
import { sizedEncoder, type KafkaEncoder } from './sized-encoder';

interface Message {
  partition?: number;
}

type Partitioner = (args: { topic: string; partitionMetadata: unknown[]; message: Message }) => number;

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

  const record = (fields: RecordFields): KafkaEncoder => {
    const lengths = new RecordLengths();
    const encoder = sizedEncoder(sizeRecord(fields, lengths));
    writeRecord(encoder, fields, lengths);
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
