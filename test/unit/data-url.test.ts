import { dataUrlOf, isDataUrl } from '../../src/chat/data-url';

const MiB = 2 ** 20;

describe('data URL check', () => {
  it.each([
    ['data:text/plain;base64,aGVsbG8=', true],
    ['data:application/pdf;name=a.pdf;base64,JVBERi0x\r\nLTcK', true],
    ['data:text/plain;base64,', true],
    ['data:text/plain,hello', false],
    ['data:text/plain;base64', false],
    ['data:text;base64,aGVsbG8=', false],
    ['data:text/plain;base64,aGVs*bG8=', false],
    ['urn:text/plain;base64,aGVsbG8=', false],
  ])('%s → %s', (value, valid) => {
    expect(isDataUrl(value)).toBe(valid);
  });

  it.each([
    ['parameters', 'data:a/b' + ';a'.repeat(12 * MiB) + '!'],
    ['a header without a comma', 'data:' + 'a'.repeat(25 * MiB)],
    ['data ending in a foreign character', 'data:a/b;base64,' + 'A'.repeat(25 * MiB) + '!'],
    ['whitespace ending in a foreign character', 'data:a/b;base64,' + ' '.repeat(25 * MiB) + '!'],
  ])('refuses 25 MiB of crafted %s within a second, without throwing', (_name, value) => {
    const started = performance.now();
    expect(isDataUrl(value)).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('encodes a streamed file in pieces to the same data URL as a whole-buffer encoding', async () => {
    const file = Buffer.from(Array.from({ length: 100_001 }, (_, i) => (i * 7) % 256));
    async function* chunks() {
      for (let i = 0; i < file.length; i += 4099) yield file.subarray(i, i + 4099);
    }
    const url = await dataUrlOf('application/pdf', chunks(), file.length);
    expect(url).toBe(`data:application/pdf;base64,${file.toString('base64')}`);
    expect(isDataUrl(url)).toBe(true);
  });
});
