/** The longest `data:<mime>;<params>;base64` header accepted before the comma. */
const MAX_HEADER = 1024;
const HEADER = /^data:[A-Za-z0-9.+-]+\/[A-Za-z0-9.+-]+(?:;[A-Za-z0-9=._-]+)*;base64$/;
/** The first character that cannot be in base64 data (whitespace allowed, as browsers send it wrapped). */
const NOT_BASE64 = /[^A-Za-z0-9+/=\s]/g;

/**
 * `data:<mime>;base64,<data>` checked in linear time: one pattern over the document (up to 25 MiB)
 * with nested repetition backtracks for seconds and overflows the regex stack (a 500). Here the
 * header is bounded before it is matched, and the data is only searched for a foreign character.
 */
export function isDataUrl(value: string): boolean {
  const comma = value.slice(0, MAX_HEADER + 1).indexOf(',');
  if (comma < 0 || !HEADER.test(value.slice(0, comma))) return false;
  NOT_BASE64.lastIndex = comma + 1;
  return !NOT_BASE64.test(value);
}

/**
 * A streamed file as a data URL, encoded as it arrives into one buffer sized from `maxBytes` (the
 * request's Content-Length bounds the file), which is freed as soon as it is decoded: no
 * whole-file Buffer, no second base64 copy, no pile of pieces for the collector.
 */
export async function dataUrlOf(mime: string, file: AsyncIterable<Buffer>, maxBytes: number): Promise<string> {
  const head = `data:${mime};base64,`;
  const out = Buffer.allocUnsafeSlow(head.length + Math.ceil(maxBytes / 3) * 4 + 4);
  let used = out.write(head, 0, 'latin1');
  let carry = Buffer.alloc(0);
  const write = (bytes: Buffer, from: number, to: number) => {
    if (used + ((to - from) / 3) * 4 + 4 > out.length) throw new RangeError('file larger than maxBytes');
    used += out.write(bytes.toString('base64', from, to), used, 'latin1');
  };
  for await (const chunk of file) {
    // Only whole 3-byte groups encode without padding: the last one or two bytes wait for the
    // next chunk (completed by copying those few bytes, never the chunk).
    let start = 0;
    if (carry.length) {
      start = Math.min(3 - carry.length, chunk.length);
      carry = Buffer.concat([carry, chunk.subarray(0, start)]);
      if (carry.length < 3) continue;
      write(carry, 0, 3);
    }
    const end = chunk.length - ((chunk.length - start) % 3);
    write(chunk, start, end);
    carry = Buffer.from(chunk.subarray(end));
  }
  if (carry.length) write(carry, 0, carry.length);
  const url = out.toString('latin1', 0, used);
  // allocUnsafeSlow: memory of its own, never Node's shared pool, so detaching it frees only it.
  (out.buffer as ArrayBuffer & { transfer(length: number): ArrayBuffer }).transfer(0);
  return url;
}
