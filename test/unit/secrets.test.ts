import { SecretBox } from '../../src/temporal/secrets';
import { openOperationId, sealedOperationId } from '../../src/temporal/operations';

const key = (id: string, fill: number) => ({ id, key: Buffer.alloc(32, fill) });

describe('SecretBox (secrets sealed inside Temporal payloads)', () => {
  const box = new SecretBox([key('s1', 1)]);

  it('seals to an opaque string that opens only with the key and the same purpose', () => {
    const sealed = box.seal('hunter2-password');
    expect(sealed).toMatch(/^sealed:v1:s1:[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('hunter2');
    expect(box.seal('hunter2-password')).not.toBe(sealed);
    expect(box.open(sealed)).toBe('hunter2-password');
    expect(() => box.open(sealed, 'operation-id')).toThrow();
    expect(() => new SecretBox([key('s1', 2)]).open(sealed)).toThrow();
    const tampered = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'BB' : 'AA');
    expect(() => box.open(tampered)).toThrow();
  });

  it('passes plaintext of older runs through, and opens with any configured key after a rotation', () => {
    expect(box.open('plain-from-an-old-run')).toBe('plain-from-an-old-run');
    expect(box.openJson({ access_token: 'old' })).toEqual({ access_token: 'old' });
    const rotated = new SecretBox([key('s2', 2), key('s1', 1)]);
    expect(rotated.open(box.seal('x'))).toBe('x');
    expect(rotated.seal('x')).toMatch(/^sealed:v1:s2:/);
  });

  it('proves e-mail + password: the same pair gives the same proof, any other pair another', () => {
    const [proof] = box.credentialProofs('a@example.com', 'password-1');
    expect(box.credentialProofs('a@example.com', 'password-1')).toEqual([proof]);
    expect(box.credentialProofs('a@example.com', 'password-2')).not.toContain(proof);
    expect(box.credentialProofs('b@example.com', 'password-1')).not.toContain(proof);
    expect(new SecretBox([key('s2', 2), key('s1', 1)]).credentialProofs('a@example.com', 'password-1')).toContain(
      proof,
    );
  });

  it('operation ids name the run sealed, and anything forged opens to nothing', () => {
    const id = sealedOperationId(box, 'sign-up/abc', 'run-1');
    expect(id).toMatch(/^sign-up:s1:/);
    expect(id).not.toContain('abc');
    expect(openOperationId(box, id)).toEqual({ workflowId: 'sign-up/abc', runId: 'run-1' });
    expect(openOperationId(box, 'sign-up:s1:AAAA')).toBeUndefined();
    expect(openOperationId(box, 'sign-up/abc')).toBeUndefined();
    expect(openOperationId(box, `sign-up:${box.seal('{"w":"x","r":"y"}').slice('sealed:v1:'.length)}`)).toBeUndefined();
  });
});

describe('operationKey (the last part of a workflow-backed route’s workflow id)', () => {
  it('is the Idempotency-Key when there is one, never the client-chosen request id otherwise', async () => {
    const { operationKey } = await import('../../src/temporal/operations');
    expect(operationKey('import-500', 'req-1')).toBe('import-500');
    const generated = operationKey(undefined, 'req-1');
    expect(generated).not.toBe('req-1');
    expect(operationKey(undefined, 'req-1')).not.toBe(generated);
  });
});
