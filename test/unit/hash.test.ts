import { emailHashOf, tokenHash } from '../../src/auth/hashing';
import { constantTimeEqual } from '../../src/lib/constant-time';
import { sha256Bytes, sha256Hex } from '../../src/lib/hash';

describe('hashing helpers', () => {
  it('sha256Hex and sha256Bytes give the SHA-256 of the UTF-8 text (FIPS 180-2 test vector)', () => {
    const abc = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    expect(sha256Hex('abc')).toBe(abc);
    expect(sha256Bytes('abc').toString('hex')).toBe(abc);
  });

  it('emailHashOf hashes the trimmed, lower-cased e-mail; tokenHash the token as it is', () => {
    expect(emailHashOf(' Ann@Example.COM ')).toBe('71d4f55f72fa128dfb468a1a3901507c804b74316488744d769d7f4b16696476');
    expect(tokenHash('abc')).toBe(sha256Hex('abc'));
  });

  it('constantTimeEqual tells equal strings from different ones of any length', () => {
    expect(constantTimeEqual('internal-key', 'internal-key')).toBe(true);
    expect(constantTimeEqual('internal-key', 'internal-kez')).toBe(false);
    expect(constantTimeEqual('internal-key', 'internal-key-longer')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
  });
});
