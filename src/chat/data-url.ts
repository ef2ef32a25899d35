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
 * A streamed file as a data URL, encoded piece by piece as it arrives: no whole-file Buffer and no
 * second base64 copy, so the peak is the pieces plus the joined string (~2.7× the file).
 */
export async function dataUrlOf(mime: string, file: AsyncIterable<Buffer>): Promise<string> {
  const pieces = [`data:${mime};base64,`];
  let carry = Buffer.alloc(0);
  for await (const chunk of file) {
    const bytes = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    // Only whole 3-byte groups encode without padding; the rest waits for the next chunk.
    const whole = bytes.length - (bytes.length % 3);
    pieces.push(bytes.toString('base64', 0, whole));
    carry = Buffer.from(bytes.subarray(whole));
  }
  if (carry.length) pieces.push(carry.toString('base64'));
  return pieces.join('');
}
