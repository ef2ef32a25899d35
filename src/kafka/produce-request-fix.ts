/**
 * kafkajs 2.2.4 encodes a produce request level by level: the record batch's body, the batch, its
 * offset header, the partition, the topic, the request and its frame each in an encoder of its own
 * that grows by doubling and is then copied into the next level's. Every record is copied eight
 * times over into fresh buffers, 128–256 KB each for a batch of a few hundred access events (about
 * 1.5 % of the gateway's busy time in the copies alone on the direct path, and a fresh mapping per
 * buffer). Here an uncompressed produce request is sized first and written into one buffer, each
 * field through kafkajs' own encoder methods, each record in place (record-writer.ts: every string
 * measured once) and the CRC-32C over the batch body in place; the frame
 * (size, api key and version, correlation id, client id) of every request is written ahead of its
 * payload with one copy. A compressed produce request is encoded by kafkajs' own code.
 *
 * The two modules are replaced in Node's module cache, so this file must load before the modules
 * that capture them (`network/connection`, loaded with kafkajs' index; produce `v4/request`, loaded
 * at the first produce): src/kafka/fixes.ts imports it after produce-fix.ts (whose record encoder
 * the original produce request must capture) and before `kafkajs`. A private internal of kafkajs
 * (docs/adr/0008-private-internals.md), guarded by test/unit/kafka-encoder.test.ts, which compares
 * every byte with kafkajs' own; kafkajs is pinned.
 */
import { crc32c } from './crc32c';
import { replaceModule } from './replace-module';
import { RecordLengths, sizeRecord, writeRecord, type RecordFields } from './record-writer';
import { sizedEncoder, type KafkaEncoder } from './sized-encoder';

interface ProduceMessage {
  key?: Buffer | string | null;
  value?: Buffer | string | null;
  headers?: RecordFields['headers'];
  timestamp?: number | string | null;
}

interface PartitionData {
  partition: number;
  firstSequence?: number;
  messages: ProduceMessage[];
}

interface ProduceRequest {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: { topic: string; partitions: PartitionData[] }[];
}

type ProtocolRequest = { apiKey: number; apiVersion: number; apiName: string; encode: () => Promise<KafkaEncoder> };

const PATCHED = Symbol.for('durable-gateway.kafkajs-produce-request-fix');
const registry = globalThis as { [PATCHED]?: true };

const stringSize = (value: string | null | undefined) => 2 + (value == null ? 0 : Buffer.byteLength(value, 'utf8'));

/* eslint-disable @typescript-eslint/no-require-imports */
if (!registry[PATCHED]) {
  const Long = require('kafkajs/src/utils/long') as { fromInt(v: number): unknown };
  const { Types } = require('kafkajs/src/protocol/message/compression') as { Types: { None: number } };
  const kafkajsProduceV3 = require('kafkajs/src/protocol/requests/produce/v3/request') as (
    request: ProduceRequest,
  ) => ProtocolRequest & { expectResponse: () => boolean };

  /** One partition's records and batch header fields, as kafkajs' `partitionsEncoder` derives them. */
  const partitionBatch = ({ partition, firstSequence = 0, messages }: PartitionData, lengths: RecordLengths) => {
    const dateNow = Date.now();
    const messageTimestamps = messages
      .map((m) => m.timestamp)
      .filter((timestamp) => timestamp != null)
      .sort();
    const timestamps = messageTimestamps.length === 0 ? [dateNow] : messageTimestamps;
    const firstTimestamp = timestamps[0] as number;
    const maxTimestamp = timestamps[timestamps.length - 1] as number;
    let recordsSize = 0;
    const records = messages.map((message, i): RecordFields => {
      const record = {
        key: message.key,
        value: message.value,
        headers: message.headers,
        offsetDelta: i,
        timestampDelta: ((message.timestamp as number) || dateNow) - firstTimestamp,
      };
      recordsSize += sizeRecord(record, lengths);
      return record;
    });
    // firstOffset, batch length, partitionLeaderEpoch, magic, CRC; then the body: attributes …
    // firstSequence (2+4+8+8+8+2+4), the record count, the records.
    const batchSize = 8 + 4 + 4 + 1 + 4 + (36 + 4 + recordsSize);
    return { partition, firstSequence, firstTimestamp, maxTimestamp, records, batchSize };
  };

  const produceV3 = (request: ProduceRequest) => {
    const original = kafkajsProduceV3(request);
    const { compression = Types.None } = request;
    if (compression !== Types.None) return original;
    const { acks, timeout, transactionalId = null, producerId = Long.fromInt(-1), producerEpoch = 0 } = request;
    const encode = () => {
      let size = stringSize(transactionalId) + 2 + 4 + 4;
      // Every record's string lengths, measured once while sizing and read back while writing.
      const lengths = new RecordLengths();
      const topics = request.topicData.map(({ topic, partitions }) => {
        const batches = partitions.map((p) => partitionBatch(p, lengths));
        size += stringSize(topic) + 4;
        for (const b of batches) size += 4 + 4 + b.batchSize;
        return { topic, batches };
      });
      const out = sizedEncoder(size);
      out.writeString(transactionalId).writeInt16(acks).writeInt32(timeout).writeInt32(topics.length);
      for (const { topic, batches } of topics) {
        out.writeString(topic).writeInt32(batches.length);
        for (const b of batches) {
          out.writeInt32(b.partition).writeInt32(b.batchSize);
          out.writeInt64(Long.fromInt(0)).writeInt32(b.batchSize - 12);
          out.writeInt32(0).writeInt8(2);
          const crcAt = out.offset;
          out.writeUInt32(0);
          const bodyAt = out.offset;
          out
            .writeInt16(transactionalId ? 16 : 0)
            .writeInt32(b.records.length - 1)
            .writeInt64(b.firstTimestamp)
            .writeInt64(b.maxTimestamp)
            .writeInt64(producerId)
            .writeInt16(producerEpoch)
            .writeInt32(b.firstSequence)
            .writeInt32(b.records.length);
          for (const record of b.records) writeRecord(out, record, lengths);
          out.buf.writeUInt32BE(crc32c(out.buf.subarray(bodyAt, out.offset)), crcAt);
        }
      }
      return Promise.resolve(out);
    };
    return { ...original, encode };
  };

  /** kafkajs' `protocol/request`: the same frame, written ahead of the payload with one copy. */
  const frame = async ({
    correlationId,
    clientId,
    request: { apiKey, apiVersion, encode },
  }: {
    correlationId: number;
    clientId: string;
    request: ProtocolRequest;
  }) => {
    const payload = await encode();
    const size = 2 + 2 + 4 + stringSize(clientId) + payload.offset;
    const out = sizedEncoder(4 + size);
    out.writeInt32(size).writeInt16(apiKey).writeInt16(apiVersion).writeInt32(correlationId).writeString(clientId);
    out.writeBufferInternal(payload.buf.subarray(0, payload.offset));
    return out;
  };

  replaceModule(
    'kafkajs/src/protocol/requests/produce/v3/request',
    'kafkajs/src/protocol/requests/produce/v4/request',
    produceV3,
  );
  replaceModule('kafkajs/src/protocol/request', 'kafkajs/src/network/connection', frame);
  registry[PATCHED] = true;
}
/* eslint-enable @typescript-eslint/no-require-imports */

export {};
