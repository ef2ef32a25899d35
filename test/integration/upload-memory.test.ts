import { writeFileSync } from 'node:fs';
import { startAuthFake, type AuthFake } from '../support/auth-fake';
import { chatTopicOverrides, createChatTopics, deleteChatTopics, startChatFake } from '../support/chat-fake';
import type { ChatServiceFake } from '../support/chat-fake';
import { call, spawnGateway } from '../support/gateway';
import { memoryOf, testConfig, uniqueSuffix } from '../support/stack';
import type { Config } from '../../src/config';

jest.setTimeout(180_000);

const MiB = 2 ** 20;
const UPLOAD = 24 * MiB;

/** Starts VmHWM again from the current resident set (Linux: "5" to clear_refs). */
function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

const post = (url: string, token: string, contentType: string, body: Buffer) =>
  call(url, 'POST', '/api/chat/embedding_document/', { token, raw: body, headers: { 'content-type': contentType } });

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
      const gateway = await spawnGateway({ ...overrides, LOG_LEVEL: 'warn' });
      try {
        const small = Buffer.from('{"title":"t","file":"data:text/plain;base64,QUFB"}');
        // A small upload first, so lazily loaded code and the producer are in the baseline.
        expect((await post(gateway.url, token, 'application/json', small)).status).toBe(201);

        const pid = gateway.child.pid!;
        resetPeak(pid);
        const before = memoryOf(pid);
        const res = await post(gateway.url, token, contentType, body);
        const after = memoryOf(pid);
        expect(res.status).toBe(422);
        expect(JSON.parse(res.text)).toMatchObject({ code: 'validation_error' });
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
