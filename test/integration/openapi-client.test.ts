import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { call, startGateway, type RunningGateway } from '../support/gateway';
import { ROOT, testConfig } from '../support/stack';

jest.setTimeout(120_000);

const run = promisify(execFile);

/** openapi-typescript's programmatic API, run by Node itself: the package is ESM, jest's runtime is CommonJS. */
const GENERATE = `
import { readFileSync, writeFileSync } from 'node:fs';
import openapiTS, { astToString } from 'openapi-typescript';
const [input, output] = process.argv.slice(1);
writeFileSync(output, astToString(await openapiTS(JSON.parse(readFileSync(input, 'utf8')))));
`;

/** Calls a generated client must accept, and calls it must refuse (each `@ts-expect-error` must hold). */
const CLIENT = `
import type { paths } from './api';

type Method = 'get' | 'post' | 'patch' | 'delete';
type Op<P extends keyof paths, M extends Method> = paths[P][M];
type Params<O> = O extends { parameters: infer X } ? X : never;
type JsonBody<O> = O extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;
type Json<R> = R extends { content: { 'application/json': infer J } } ? J : never;
type Ok<O> = O extends { responses: infer R }
  ? R extends { 200: infer S } ? Json<S> : R extends { 201: infer S } ? Json<S> : never
  : never;

declare function call<P extends keyof paths, M extends Method>(
  path: P,
  method: M,
  init: { params?: Params<Op<P, M>>; body?: JsonBody<Op<P, M>> },
): Promise<Ok<Op<P, M>>>;

export async function examples() {
  const list = await call('/api/chat/conversations/', 'get', { params: { query: { limit: 10 } } });
  const first: string | undefined = list[0]?.topic;
  const created = await call('/api/chat/conversations/', 'post', { body: { topic: 'NDA review' } });
  const id: number = created.conversation_id;
  const one = await call('/api/chat/conversations/{conversation_id}/', 'get', {
    params: { path: { conversation_id: id } },
  });
  const topic: string = one.topic;
  const session = await call('/v1/client/sign-in/password', 'post', {
    body: { email: 'a@example.com', password: 'secret-password' },
  });
  const token: string = session.access_token;
  const ready = await call('/health/ready', 'get', {});
  const status: 'ready' | 'not_ready' = ready.status;
  await call('/v1/operations/{path}', 'get', { params: { path: { path: 'sign-up/abc' } } });

  // @ts-expect-error a topic is a string
  await call('/api/chat/conversations/', 'post', { body: { topic: 12 } });
  // @ts-expect-error conversation ids are numbers
  await call('/api/chat/conversations/{conversation_id}/', 'get', { params: { path: { conversation_id: 'x' } } });
  // @ts-expect-error no such path
  await call('/api/chat/no-such-thing/', 'get', {});
  return { first, topic, token, status };
}
`;

/**
 * The OpenAPI document is usable by client generators (issue 13): it passes `redocly lint` with
 * the recommended rules (redocly.yaml), and a client generated from it with openapi-typescript
 * type-checks calls to a few routes.
 */
describe('the OpenAPI document at /docs/json', () => {
  let gw: RunningGateway;
  let dir: string;
  let spec: Record<string, unknown>;

  beforeAll(async () => {
    gw = await startGateway(testConfig({ AUTH_SERVICE_URL: 'http://127.0.0.1:9' }));
    spec = (await call(gw.app, 'GET', '/docs/json')).body as Record<string, unknown>;
    dir = mkdtempSync(join(tmpdir(), 'gateway-openapi-'));
    writeFileSync(join(dir, 'openapi.json'), JSON.stringify(spec));
  });

  afterAll(async () => {
    await gw?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('passes redocly lint with the recommended rules', async () => {
    const { stdout, stderr } = await run(
      join(ROOT, 'node_modules', '.bin', 'redocly'),
      ['lint', join(dir, 'openapi.json'), '--config', join(ROOT, 'redocly.yaml'), '--format', 'summary'],
      { env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' }, timeout: 60_000 },
    ).catch((err: { stdout?: string; stderr?: string }) => {
      throw new Error(`redocly lint failed:\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
    });
    expect(`${stdout}${stderr}`).toContain('valid');
  });

  it('gives every operation an operationId and a security requirement', () => {
    const paths = spec.paths as Record<string, Record<string, { operationId?: string; security?: unknown[] }>>;
    const operations = Object.values(paths).flatMap((p) => Object.values(p));
    expect(operations.length).toBeGreaterThan(40);
    expect(operations.filter((o) => !o.operationId || !Array.isArray(o.security))).toEqual([]);
    expect(new Set(operations.map((o) => o.operationId)).size).toBe(operations.length);
    expect(paths['/v1/client/sign-up']!.post!.security).toEqual([]);
    expect(paths['/api/chat/conversations/']!.get!.security).toEqual([{ bearer: [] }]);
  });

  it('generates a typed client that type-checks calls to a few routes', async () => {
    await run(
      process.execPath,
      ['--input-type=module', '-e', GENERATE, join(dir, 'openapi.json'), join(dir, 'api.d.ts')],
      {
        cwd: ROOT,
        timeout: 60_000,
      },
    );
    writeFileSync(join(dir, 'client.ts'), CLIENT);
    const program = ts.createProgram([join(dir, 'client.ts')], {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      skipLibCheck: false,
      types: [],
    });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(problems).toEqual([]);
  });
});
