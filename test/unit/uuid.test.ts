import { randomUUID } from 'node:crypto';
import { randomUuid, uuidText } from '../../src/lib/uuid';

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The text the way it used to be made: hex, then the five groups. */
function reference(b: Buffer): string {
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

describe('UUID text', () => {
  it('writes the canonical lower-case text of any 16 bytes, at any offset', () => {
    const samples = [
      Buffer.alloc(16, 0),
      Buffer.alloc(16, 0xff),
      Buffer.from([...Array(16).keys()].map((i) => i * 17)),
    ];
    for (let i = 0; i < 500; i++) samples.push(Buffer.from(randomUUID().replace(/-/g, ''), 'hex'));
    for (const b of samples) expect(uuidText(b)).toBe(reference(b));
    const padded = Buffer.concat([Buffer.from([1, 2, 3]), samples[2]!, Buffer.from([4])]);
    expect(uuidText(padded, 3)).toBe(reference(samples[2]!));
  });

  it('makes random version 4 UUIDs that do not repeat and use every hex digit in every free position', () => {
    const ids = Array.from({ length: 20_000 }, () => randomUuid());
    for (const id of ids) expect(id).toMatch(V4);
    expect(new Set(ids).size).toBe(ids.length);
    // 122 random bits: each free hex position takes all 16 values across 20,000 ids.
    for (const position of [0, 7, 9, 15, 20, 35]) expect(new Set(ids.map((id) => id[position])).size).toBe(16);
    expect(new Set(ids.map((id) => id[19])).size).toBe(4);
  });
});
