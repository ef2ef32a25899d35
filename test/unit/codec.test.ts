import type { Payload } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmPayloadCodec, ENCODING } from '../../src/temporal/codec';

const key = (n: number) => Buffer.alloc(32, n);
const plain = (v: unknown): Payload => defaultPayloadConverter.toPayload(v);
const text = (p: Payload) => Buffer.from(p.data ?? []).toString('utf8') + JSON.stringify(Object.keys(p.metadata ?? {}));

describe('AES-256-GCM payload codec', () => {
  const codec = new AesGcmPayloadCodec([
    { id: 'k2', key: key(2) },
    { id: 'k1', key: key(1) },
  ]);

  it('encrypts data and metadata and round-trips', async () => {
    const original = plain({ password: 'hunter2-secret' });
    const [enc] = await codec.encode([original]);
    expect(Buffer.from(enc!.metadata!.encoding!).toString()).toBe(ENCODING);
    expect(Buffer.from(enc!.metadata!['encryption-key-id']!).toString()).toBe('k2');
    expect(text(enc!)).not.toContain('hunter2');
    expect(text(enc!)).not.toContain('json/plain');
    const [dec] = await codec.decode([enc!]);
    expect(defaultPayloadConverter.fromPayload(dec!)).toEqual({ password: 'hunter2-secret' });
  });

  it('uses a fresh IV per payload', async () => {
    const [a, b] = await codec.encode([plain('same'), plain('same')]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  });

  it('decrypts payloads written with an older key after rotation', async () => {
    const old = new AesGcmPayloadCodec([{ id: 'k1', key: key(1) }]);
    const [enc] = await old.encode([plain('from before rotation')]);
    const [dec] = await codec.decode([enc!]);
    expect(defaultPayloadConverter.fromPayload(dec!)).toBe('from before rotation');
  });

  it('refuses an unknown key id and tampered ciphertext', async () => {
    const stranger = new AesGcmPayloadCodec([{ id: 'k9', key: key(9) }]);
    const [foreign] = await stranger.encode([plain('x')]);
    await expect(codec.decode([foreign!])).rejects.toThrow(/unknown key id "k9"/);

    const [enc] = await codec.encode([plain('x')]);
    const data = Buffer.from(enc!.data!);
    data[14] = data[14]! ^ 0xff;
    await expect(codec.decode([{ ...enc!, data }])).rejects.toThrow();
  });

  it('passes unencrypted payloads through on decode', async () => {
    const p = plain('legacy');
    const [dec] = await codec.decode([p]);
    expect(dec).toBe(p);
  });
});
