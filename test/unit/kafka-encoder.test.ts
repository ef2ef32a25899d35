import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import '../../src/kafka/fixes';

/**
 * src/kafka/encoder-fix.ts replaces three methods of kafkajs' protocol encoder and
 * src/kafka/produce-fix.ts its record encoder, its grouping of messages per partition and its CRC-32C
 * (docs/adr/0008-private-internals.md): every byte must stay what kafkajs itself writes. The same
 * sample (varints at their edges, a record batch of keyed and keyless records with headers, values
 * from empty to beyond the 4 KiB of Node's buffer pool, timestamp deltas around 2^30 and beyond
 * 2^32, repeated headers; a grouping of 50 messages) is encoded here, patched, and in a child
 * process by the unpatched kafkajs.
 */
const SAMPLE = `
  const Encoder = require('kafkajs/src/protocol/encoder');
  const Record = require('kafkajs/src/protocol/recordBatch/record/v0');
  const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0');
  const out = [];
  const varints = [0, 1, -1, 63, 64, -64, -65, 127, 128, 300, 16383, 16384, 2 ** 28, -(2 ** 28), 2 ** 31 - 1, -(2 ** 31)];
  const e = new Encoder();
  for (const v of varints) e.writeVarInt(v).writeUVarInt(Math.abs(v) >>> 0).writeVarIntString('é' + v);
  out.push(e.buffer.toString('hex'));
  const records = [];
  for (let i = 0; i < 40; i++)
    records.push(Record({
      offsetDelta: i,
      timestampDelta: i * 3,
      key: i % 5 === 0 ? null : 'key-' + i,
      value: i % 7 === 0 ? Buffer.alloc(i * 151, i) : 'v€'.repeat(i * 50),
      headers: { event_id: 'e' + i, event_type: 'user_info_requested', request_id: 'r'.repeat(i * 4) },
    }));
  records.push(Record({ offsetDelta: 40, timestampDelta: 2 ** 40, key: 'k', value: 'v', headers: { multi: ['a', 'b'], one: Buffer.from('x') } }));
  records.push(Record({ offsetDelta: 41, timestampDelta: -(2 ** 30), key: Buffer.from('kb'), value: null }));
  records.push(Record({ offsetDelta: 42, timestampDelta: 2 ** 30 - 1, key: 'k', value: 'v', headers: {} }));
  const group = require('kafkajs/src/producer/groupMessagesPerPartition');
  const messages = Array.from({ length: 50 }, (_, i) => ({ key: 'k' + i, value: 'v' + i }));
  const partitioner = ({ message }) => Number(message.key.slice(1)) % 3;
  out.push(JSON.stringify(group({ topic: 't', partitionMetadata: [{}, {}, {}], messages, partitioner })));
  out.push(JSON.stringify(group({ topic: 't', partitionMetadata: [], messages, partitioner })));
  const thrown = (fn) => { try { fn(); return 'ok'; } catch (e) { return e.name; } };
  out.push(thrown(() => Record({ key: 'k', value: 'v', headers: { h: null } })));
  out.push(thrown(() => Record({ timestampDelta: 1.5, key: 'k', value: 'v' })));
  return RecordBatch({ firstTimestamp: 1700000000000, maxTimestamp: 1700000000123, lastOffsetDelta: 42, records })
    .then((batch) => { out.push(batch.buffer.toString('hex')); return out; });
`;

type Sample = (require: NodeJS.Require) => Promise<string[]>;

// Whole produce requests, framed as the connection sends them: several topics and partitions,
// keyed and keyless records with headers, numeric, string and missing timestamps (Date.now fixed),
// an empty partition, idempotent and transactional producers, a gzip batch (kafkajs' own path), and
// the frame of another request.
const REQUESTS = `
  const Encoder = require('kafkajs/src/protocol/encoder');
  const Long = require('kafkajs/src/utils/long');
  const frame = require('kafkajs/src/protocol/request');
  const v3 = require('kafkajs/src/protocol/requests/produce/v3/request');
  const v7 = require('kafkajs/src/protocol/requests/produce/v7/request');
  const realNow = Date.now;
  Date.now = () => 1700000000777;
  const messages = (n, stamp) => Array.from({ length: n }, (_, i) => ({
    key: i % 4 === 0 ? null : i % 4 === 1 ? Buffer.from('kb' + i) : 'key-' + i,
    value: i % 5 === 0 ? Buffer.alloc(i * 37, i) : JSON.stringify({ i, text: 'é'.repeat(i * 9) }),
    headers: { event_id: 'e' + i, event_type: 'user_info_requested', multi: ['a', 'b' + i] },
    timestamp: stamp(i),
  }));
  const topicData = [
    { topic: 'auth-events', partitions: [
      { partition: 0, firstSequence: 7, messages: messages(30, (i) => 1700000000000 + ((i * 7919) % 500)) },
      { partition: 2, firstSequence: 0, messages: messages(12, (i) => (i % 3 === 0 ? undefined : 1700000000100 + i)) },
    ] },
    { topic: 'user-events', partitions: [
      { partition: 1, messages: messages(9, (i) => String(1700000000200 + i)) },
      { partition: 3, messages: [] },
    ] },
  ];
  const requests = [
    v3({ acks: -1, timeout: 30000, producerId: Long.fromInt(5), producerEpoch: 3, topicData }),
    v7({ acks: 1, timeout: 1000, transactionalId: 'tx-é', producerId: Long.fromValue('9007199254740993'), producerEpoch: 1, topicData }),
    v3({ acks: 0, timeout: 5, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: messages(3, () => null) }] }] }),
    v3({ acks: -1, timeout: 30000, compression: 1, topicData }),
    { apiKey: 3, apiVersion: 1, encode: async () => new Encoder().writeArray(['auth-events', 'user-events']) },
  ];
  const out = [];
  try {
    for (const [i, request] of requests.entries())
      out.push((await frame({ correlationId: 1000 + i, clientId: 'gateway-' + 'é'.repeat(i), request })).buffer.toString('hex'));
  } finally {
    Date.now = realNow;
  }
  return out;
`;

/** A sample's outputs here (kafkajs with the gateway's fixes) and in a child process (kafkajs as installed). */
async function bothWays(sample: string): Promise<{ patched: string[]; original: string[] }> {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const patched = await (new Function('require', `return (async () => { ${sample} })();`) as Sample)(require);
  const script = `(async () => { ${sample} })().then((out) => process.stdout.write(JSON.stringify(out)));`;
  const res = spawnSync(process.execPath, ['-e', script], {
    cwd: join(__dirname, '../..'),
    encoding: 'utf8',
    timeout: 20_000,
  });
  expect(res.stderr).toBe('');
  return { patched, original: JSON.parse(res.stdout) as string[] };
}

describe('kafkajs protocol encoder', () => {
  it('writes exactly the bytes of the unpatched kafkajs', async () => {
    const { patched, original } = await bothWays(SAMPLE);
    expect(original).toHaveLength(6);
    expect(original.slice(3, 5)).toEqual(['TypeError', 'RangeError']);
    expect(original[5]!.length).toBeGreaterThan(2 * 100_000);
    expect(patched).toEqual(original);
  });

  it('writes whole produce requests and request frames exactly as the unpatched kafkajs', async () => {
    const { patched, original } = await bothWays(REQUESTS);
    expect(original).toHaveLength(5);
    expect(original[0]!.length).toBeGreaterThan(2 * 10_000);
    expect(patched).toEqual(original);
    // The produce request and the frame this process encodes with are the gateway's, not kafkajs'.
    /* eslint-disable @typescript-eslint/no-require-imports */
    expect((require('kafkajs/src/protocol/requests/produce/v3/request') as { name: string }).name).toBe('produceV3');
    expect((require('kafkajs/src/protocol/request') as { name: string }).name).toBe('frame');
    /* eslint-enable @typescript-eslint/no-require-imports */
  });

  it('replaces the record encoder and the grouping that kafkajs loads', () => {
    /* eslint-disable @typescript-eslint/no-require-imports */
    expect((require('kafkajs/src/protocol/recordBatch/record/v0') as { name: string }).name).toBe('record');
    expect((require('kafkajs/src/producer/groupMessagesPerPartition') as { name: string }).name).toBe(
      'groupMessagesPerPartition',
    );
    expect((require('kafkajs/src/protocol/recordBatch/crc32C') as { name: string }).name).toBe('crc32C');
    // The CRC-32C check value (RFC 3720) and kafkajs' own loop on a batch-sized input.
    const crc = require('kafkajs/src/protocol/recordBatch/crc32C') as (b: Buffer) => number;
    const byteAtATime = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C') as (b: Buffer) => number;
    expect(crc(Buffer.from('123456789')).toString(16)).toBe('e3069283');
    for (const size of [0, 1, 7, 8, 9, 63, 4096, 100_003]) {
      const buf = Buffer.alloc(size, 0);
      for (let i = 0; i < size; i++) buf[i] = (i * 7919 + size) & 0xff;
      expect(crc(buf)).toBe(byteAtATime(buf));
    }
    /* eslint-enable @typescript-eslint/no-require-imports */
  });

  it('writes a varint without a Buffer of its own', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Encoder = require('kafkajs/src/protocol/encoder') as new () => { writeVarInt(v: number): unknown };
    const encoder = new Encoder();
    const from = jest.spyOn(Buffer, 'from');
    try {
      encoder.writeVarInt(300);
      expect(from).not.toHaveBeenCalled();
    } finally {
      from.mockRestore();
    }
  });
});
