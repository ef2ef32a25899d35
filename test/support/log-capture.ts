import { Writable } from 'node:stream';

/** A pino destination that keeps every line, for tests that read what was logged. */
export function captureLog() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { stream, lines, text: () => lines.join('') };
}
