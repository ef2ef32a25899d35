import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { startAuthFake, type AuthFake } from '../support/auth-fake';
import { chatTopicOverrides, createChatTopics, deleteChatTopics, startChatFake } from '../support/chat-fake';
import type { ChatServiceFake } from '../support/chat-fake';
import { ROOT, testConfig, uniqueSuffix, waitFor } from '../support/stack';
import type { Config } from '../../src/config';

jest.setTimeout(180_000);

const MiB = 2 ** 20;
const UPLOAD = 24 * MiB;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

/** Resident set (VmRSS) and its peak since the last reset (VmHWM), in bytes. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** Starts VmHWM again from the current resident set (Linux: "5" to clear_refs). */
function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

function post(
  port: number,
  token: string,
  contentType: string,
  body: Buffer,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/api/chat/embedding_document/',
        headers: { authorization: `Bearer ${token}`, 'content-type': contentType, 'content-length': body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Uploads of 24 MiB that the gateway reads, parses and validates in full and then refuses (422),
 * so what is measured is the gateway's own handling, not the Kafka client's encoding (see
 * docs/security-limits.md): JSON with a data URL whose last character is not base64, and
 * multipart whose 24 MiB file is encoded to a data URL before the missing title is noticed.
 */
function uploads(boundary: string): { json: Buffer; multipart: Buffer } {
  const base64 = Buffer.alloc((UPLOAD / 4) * 3, 'gateway').toString('base64');
  const json = Buffer.from(JSON.stringify({ title: 'big', file: `data:application/octet-stream;base64,${base64}!` }));
  const multipart = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n',
    ),
    Buffer.alloc(UPLOAD, 'gateway'),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { json, multipart };
}

interface GatewayProcess {
  child: ChildProcess;
  port: number;
  stop(): Promise<void>;
}

/** A gateway in a process of its own, so its memory is the gateway's alone (this one holds the bodies). */
async function spawnGateway(overrides: Record<string, string>): Promise<GatewayProcess> {
  const port = await freePort();
  let output = '';
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'src', 'api', 'server.js')], {
    cwd: ROOT,
    env: { ...process.env, ...overrides, NODE_ENV: 'test', LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  try {
    await waitFor(
      `the gateway on port ${port}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`gateway exited: ${output}`);
        return (await fetch(`http://127.0.0.1:${port}/health/live`)).status === 200;
      },
      60_000,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { child, port, stop };
}

describe('memory of one large document upload', () => {
  let auth: AuthFake;
  let fake: ChatServiceFake;
  let config: Config;
  let overrides: Record<string, string>;
  let token: string;
  const boundary = 'memory-test-boundary';

  beforeAll(async () => {
    auth = await startAuthFake({ port: 0 });
    overrides = {
      ...chatTopicOverrides(`memory-${uniqueSuffix()}`),
      AUTH_SERVICE_URL: auth.url,
      AUTH_JWKS_URL: auth.jwksUrl,
      AUTH_ISSUER: auth.issuer,
    };
    config = testConfig(overrides);
    await createChatTopics(config);
    fake = await startChatFake(config);
    const user = auth.createUser({ email: `memory-${uniqueSuffix()}@example.test`, password: 'password-123' });
    token = (await auth.issueTokens(user.sub)).access_token;
  });

  afterAll(async () => {
    await fake?.stop();
    await auth?.close();
    if (config) await deleteChatTopics(config);
  });

  it.each(['json', 'multipart'] as const)(
    'reading, parsing and validating a 24 MiB %s upload raises the peak memory by less than 3.5× the document (about 2.7–2.9× measured)',
    async (kind) => {
      const body = uploads(boundary)[kind];
      const contentType = kind === 'json' ? 'application/json' : `multipart/form-data; boundary=${boundary}`;
      const gateway = await spawnGateway(overrides);
      try {
        const small = Buffer.from('{"title":"t","file":"data:text/plain;base64,QUFB"}');
        // A small upload first, so lazily loaded code and the producer are in the baseline.
        expect((await post(gateway.port, token, 'application/json', small)).status).toBe(201);

        const pid = gateway.child.pid!;
        resetPeak(pid);
        const before = memoryOf(pid);
        const res = await post(gateway.port, token, contentType, body);
        const after = memoryOf(pid);
        expect(res.status).toBe(422);
        expect(JSON.parse(res.body)).toMatchObject({ code: 'validation_error' });
        // JSON: bytes and text, then text and parsed value. Multipart: the encoded buffer and its text.
        // Measured against the data URL the gateway must hold: the JSON body, or 4/3 of a multipart file.
        const document = kind === 'json' ? body.length : (UPLOAD / 3) * 4;
        const growth = (after.peak - before.rss) / document;
        process.stdout.write(`${kind}: peak growth ${growth.toFixed(2)}× the document\n`);
        expect(growth).toBeLessThan(3.5);
      } finally {
        await gateway.stop();
      }
    },
  );
});
