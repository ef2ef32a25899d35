// Before kafkajs: see src/kafka/fixes.ts.
import '../../src/kafka/fixes';
import { randomBytes, randomUUID } from 'node:crypto';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { murmur2, murmur2Partitioner } from '../../src/kafka/partitioner';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (key: Buffer | string) => number;

const partitions = (n: number, leaderless: number[] = []): PartitionMetadata[] =>
  Array.from({ length: n }, (_, partitionId) => ({
    partitionId,
    leader: leaderless.includes(partitionId) ? -1 : 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));

describe('the event producers’ partitioner', () => {
  it('hashes as the Java client does (Kafka’s own murmur2 test vectors)', () => {
    const vectors: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [key, hash] of vectors) expect([key, murmur2(Buffer.from(key))]).toEqual([key, hash]);
  });

  it('hashes every key as kafkajs’ default partitioner does', () => {
    const keys: (string | Buffer)[] = ['', 'é', '日本語のキー', 'x'.repeat(400)];
    for (let len = 0; len < 40; len++) keys.push(randomBytes(len).toString('base64url').slice(0, len));
    for (let i = 0; i < 200; i++) keys.push(randomUUID(), randomBytes(i % 50));
    for (const key of keys) {
      const expected = kafkajsMurmur2(key);
      expect(murmur2(typeof key === 'string' ? Buffer.from(key) : key)).toBe(expected);
    }
  });

  it('puts each keyed message on the partition kafkajs’ DefaultPartitioner picks', () => {
    const ours = murmur2Partitioner();
    const theirs = Partitioners.DefaultPartitioner();
    // Long keys too: up to 1024 bytes are encoded into a shared buffer, longer ones on their own.
    const keys: (string | Buffer)[] = ['€'.repeat(341), '€'.repeat(342), 'x'.repeat(1024), 'x'.repeat(2000)];
    for (let i = 0; i < 300; i++)
      keys.push(i % 3 === 0 ? randomUUID() : i % 3 === 1 ? `${i}-é-${randomUUID()}` : randomBytes(20));
    for (const n of [1, 3, 7, 12]) {
      const partitionMetadata = partitions(n);
      for (const key of keys) {
        const args = { topic: 't', partitionMetadata, message: { key, value: 'v' } };
        expect(ours(args)).toBe(theirs(args));
      }
    }
  });

  it('keeps an explicit partition and spreads keyless messages over partitions with a leader', () => {
    const partition = murmur2Partitioner();
    const partitionMetadata = partitions(4, [2]);
    expect(partition({ topic: 't', partitionMetadata, message: { key: 'k', value: 'v', partition: 3 } })).toBe(3);
    const used = new Set<number>();
    for (let i = 0; i < 30; i++)
      used.add(partition({ topic: 't', partitionMetadata, message: { key: null, value: 'v' } }));
    expect([...used].sort()).toEqual([0, 1, 3]);
  });
});
