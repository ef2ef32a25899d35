import { randomInt } from 'node:crypto';
import type { ICustomPartitioner } from 'kafkajs';

const M = 0x5bd1e995;
/** Keys are encoded here, not into a new Buffer each; a longer key gets a Buffer of its own. */
const scratch = Buffer.alloc(1024);

/**
 * Kafka's murmur2 (the Java client's `Utils.murmur2`) of `data[0, length)` in 32-bit integer
 * arithmetic. kafkajs' DefaultPartitioner computes the same hash with BigInt-backed Longs, about
 * 80 allocations for a 36-byte key; test/unit/kafka-partitioner.test.ts holds the two equal.
 */
export function murmur2(data: Uint8Array, length = data.length): number {
  let h = 0x9747b28c ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length & 3;
  if (rest === 3) h ^= data[whole + 2]! << 16;
  if (rest >= 2) h ^= data[whole + 1]! << 8;
  if (rest >= 1) h = Math.imul(h ^ data[whole]!, M);
  h ^= h >>> 13;
  h = Math.imul(h, M);
  return h ^ (h >>> 15);
}

function hashOfKey(key: Buffer | string): number {
  if (typeof key !== 'string') return murmur2(key);
  if (key.length * 3 <= scratch.length) return murmur2(scratch, scratch.write(key));
  return murmur2(Buffer.from(key));
}

/**
 * kafkajs' DefaultPartitioner (Java-compatible), with the cheap hash above: a keyed message goes
 * to murmur2(key) mod the topic's partition count, so a key lands on the same partition as with
 * kafkajs' own partitioner or the Java client; a message without a key goes round-robin over the
 * partitions that have a leader.
 */
export const murmur2Partitioner: ICustomPartitioner = () => {
  const counters = new Map<string, number>();
  return ({ topic, partitionMetadata, message }) => {
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    if (message.key !== null && message.key !== undefined)
      return (hashOfKey(message.key) & 0x7fffffff) % partitionMetadata.length;
    const next = (counters.get(topic) ?? randomInt(2 ** 31)) + 1;
    counters.set(topic, next);
    const available = partitionMetadata.filter((p) => p.leader >= 0);
    if (available.length > 0) return available[(next & 0x7fffffff) % available.length]!.partitionId;
    return (next & 0x7fffffff) % partitionMetadata.length;
  };
};
