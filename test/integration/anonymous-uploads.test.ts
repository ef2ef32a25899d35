import { connect } from 'node:net';
import { spawnGateway, type GatewayProcess } from '../support/gateway';
import { memoryOf } from '../support/stack';

jest.setTimeout(120_000);

const MiB = 2 ** 20;
const LIMIT = 25 * MiB;
const UPLOADS_PER_KIND = 15;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * Sends a whole body with its Content-Length over a raw socket and resolves with the answer the
 * gateway sent: it answers before reading the body and closes the connection, so the write may
 * fail (EPIPE, ECONNRESET) after the answer arrived; that answer is what counts.
 */
function upload(port: number, contentType: string, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: '127.0.0.1', port });
    const finish = (err?: NodeJS.ErrnoException) => {
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text);
      const closed = err?.code;
      // The gateway closed the connection and the client's next write failed before it read the
      // answer: the body was refused all the same (status 0 = closed by the gateway, unread).
      if (!status && (closed === 'EPIPE' || closed === 'ECONNRESET'))
        return resolve({ status: 0, headers: {}, body: '' });
      if (!status || split < 0) return reject(err ?? new Error(`no answer: ${text.slice(0, 80)}`));
      const headers: Answer['headers'] = {};
      for (const line of text.slice(0, split).split('\r\n').slice(1)) {
        const i = line.indexOf(':');
        headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status: Number(status[1]), headers, body: text.slice(split + 4) });
    };
    let answered = false;
    socket.on('data', (c: Buffer) => {
      answered = true;
      chunks.push(c);
    });
    socket.on('error', (err) => finish(err));
    socket.on('close', () => finish());
    socket.write(
      `POST /api/chat/embedding_document/ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
        `Content-Type: ${contentType}\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    // The body in chunks, yielding between them like a real client's stream, and no more once the
    // answer has come: a write after the gateway closed could otherwise fail before it is read.
    const CHUNK = 256 * 1024;
    const send = (offset: number) => {
      if (answered || socket.destroyed || offset >= body.length) return;
      const more = socket.write(body.subarray(offset, offset + CHUNK));
      if (more) setImmediate(() => send(offset + CHUNK));
      else socket.once('drain', () => send(offset + CHUNK));
    };
    send(0);
  });
}

function jsonUpload(): Buffer {
  const head = '{"title":"big","file":"data:application/pdf;base64,';
  const tail = '"}';
  const body = Buffer.alloc(LIMIT - 64, 'A');
  body.write(head, 0);
  body.write(tail, body.length - tail.length);
  return body;
}

function multipartUpload(boundary: string): Buffer {
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nbig\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n` +
      'Content-Type: application/pdf\r\n\r\n',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return Buffer.concat([head, Buffer.alloc(LIMIT - 1024 - head.length - tail.length, 'B'), tail]);
}

describe('anonymous document uploads', () => {
  let gateway: GatewayProcess;
  let port: number;
  // Keep-alive, so `Connection: close` in an answer is the gateway's choice, not an echo of ours.

  beforeAll(async () => {
    // A process of its own, so its memory is the gateway's alone (the jest process holds the bodies).
    gateway = await spawnGateway({ DOCUMENT_BODY_LIMIT_BYTES: String(LIMIT) });
    port = gateway.port;
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  it('30 concurrent unauthenticated 25 MiB uploads (JSON and multipart) are all refused unread (401) and the memory stays flat', async () => {
    // Warm the paths that are measured, so lazily loaded code and pools are in the baseline.
    for (let i = 0; i < 3; i++) {
      const warm = await upload(
        port,
        'application/json',
        Buffer.from('{"title":"t","file":"data:application/pdf;base64,QUFB"}'),
      );
      expect(warm.status).toBe(401);
    }
    const before = memoryOf(gateway.child.pid!);
    const json = jsonUpload();
    const boundary = 'gateway-test-boundary';
    const multipart = multipartUpload(boundary);
    const answers = await Promise.all([
      ...Array.from({ length: UPLOADS_PER_KIND }, () => upload(port, 'application/json', json)),
      ...Array.from({ length: UPLOADS_PER_KIND }, () =>
        upload(port, `multipart/form-data; boundary=${boundary}`, multipart),
      ),
    ]);
    const after = memoryOf(gateway.child.pid!);

    // Every upload is refused: 401 in the error format, or its connection closed by the gateway
    // before this client read the 401 (it was still writing the body).
    expect(answers.every((a) => a.status === 401 || a.status === 0)).toBe(true);
    for (const answer of answers.filter((a) => a.status !== 0)) {
      expect(answer.status).toBe(401);
      const body = JSON.parse(answer.body) as Record<string, unknown>;
      expect(body).toEqual({ detail: expect.any(String), code: 'unauthorized', request_id: expect.any(String) });
      expect(answer.headers['x-request-id']).toBe(body.request_id);
      // The connection ends with the answer, so the unread body is not drained either.
      expect(answer.headers.connection).toBe('close');
    }
    // Buffering the bodies would cost at least 30 × 25 MiB = 750 MiB; refused unread, a few MiB.
    const growthMiB = Math.round((after.peak - before.rss) / MiB);
    expect(growthMiB).toBeLessThan(64);
  });
});
