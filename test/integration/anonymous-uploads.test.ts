import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ROOT, waitFor } from '../support/stack';

jest.setTimeout(120_000);

const MiB = 2 ** 20;
const LIMIT = 25 * MiB;
const UPLOADS_PER_KIND = 15;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

/** Resident set of a process (VmRSS) and its peak so far (VmHWM), in bytes. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/**
 * Sends a whole body with its Content-Length and resolves with the answer as soon as it comes: the
 * gateway answers before reading the body and closes the connection, so writing may fail after.
 */
function upload(agent: Agent, port: number, contentType: string, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/api/chat/embedding_document/',
        agent,
        headers: { 'content-type': contentType, 'content-length': body.length },
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    req.end(body);
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
  let gateway: ChildProcess;
  let port: number;
  let output = '';
  // Keep-alive, so `Connection: close` in an answer is the gateway's choice, not an echo of ours.
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });

  beforeAll(async () => {
    port = await freePort();
    // A process of its own, so its memory is the gateway's alone (the jest process holds the bodies).
    gateway = spawn(process.execPath, [join(ROOT, 'dist', 'src', 'api', 'server.js')], {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        HOST: '127.0.0.1',
        PORT: String(port),
        ADMIN_PORT: '0', // any free port: the default 9002 may be taken by another gateway
        DOCUMENT_BODY_LIMIT_BYTES: String(LIMIT),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    gateway.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    gateway.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    await waitFor(
      `the gateway on port ${port}`,
      async () => {
        if (gateway.exitCode !== null) throw new Error(`gateway exited: ${output}`);
        const res = await fetch(`http://127.0.0.1:${port}/health/live`);
        return res.status === 200;
      },
      60_000,
    );
  });

  afterAll(async () => {
    agent.destroy();
    if (gateway && gateway.exitCode === null) {
      const exited = new Promise((resolve) => gateway.once('exit', resolve));
      gateway.kill('SIGTERM');
      await exited;
    }
  });

  it('30 concurrent unauthenticated 25 MiB uploads (JSON and multipart) all get 401 and the memory stays flat', async () => {
    // Warm the paths that are measured, so lazily loaded code and pools are in the baseline.
    for (let i = 0; i < 3; i++) {
      const warm = await upload(
        agent,
        port,
        'application/json',
        Buffer.from('{"title":"t","file":"data:application/pdf;base64,QUFB"}'),
      );
      expect(warm.status).toBe(401);
    }
    const before = memoryOf(gateway.pid!);
    const json = jsonUpload();
    const boundary = 'gateway-test-boundary';
    const multipart = multipartUpload(boundary);
    const answers = await Promise.all([
      ...Array.from({ length: UPLOADS_PER_KIND }, () => upload(agent, port, 'application/json', json)),
      ...Array.from({ length: UPLOADS_PER_KIND }, () =>
        upload(agent, port, `multipart/form-data; boundary=${boundary}`, multipart),
      ),
    ]);
    const after = memoryOf(gateway.pid!);

    for (const answer of answers) {
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
