import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair, jwtVerify, type JWK } from 'jose';
import { IssuerKeys, IssuerKeysUnavailable } from '../../src/auth/issuer-keys';
import { createLogger } from '../../src/logger';

const ROOT = join(__dirname, '../..');

type Mode = 'keys' | 'bom' | 'down' | '500' | 'html' | 'huge' | 'silent';

/** A token issuer's JWKS endpoint over real HTTP, whose answer the test switches. */
class Issuer {
  mode: Mode = 'keys';
  keys: JWK[] = [];
  requests = 0;
  private readonly server: Server;
  private readonly held: ServerResponse[] = [];

  constructor() {
    this.server = createServer((req, res) => {
      this.requests++;
      if (this.mode === 'silent') return void this.held.push(res);
      if (this.mode === 'down') return void res.socket?.destroy();
      if (this.mode === '500') return void res.writeHead(500).end('{"error":"boom"}');
      if (this.mode === 'html') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>');
      const bom = this.mode === 'bom' ? '\ufeff' : '';
      // 'huge': the right keys in a valid key set of over 1 MiB (past the gateway's cap for a JWKS).
      const padding = this.mode === 'huge' ? { padding: 'x'.repeat(1024 * 1024) } : {};
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(bom + JSON.stringify({ keys: this.keys, ...padding }));
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/realms/test/certs?v=1`;
  }

  async stop(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function signingKey(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const sign = () =>
    new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid }).setSubject('u1').setExpirationTime('5m').sign(privateKey);
  return { jwk, sign };
}

describe('IssuerKeys: the issuer JWKS over the gateway undici pool', () => {
  const issuer = new Issuer();
  let url: string;

  beforeAll(async () => {
    url = await issuer.start();
  });
  afterAll(() => issuer.stop());
  beforeEach(() => {
    issuer.mode = 'keys';
    issuer.keys = [];
    issuer.requests = 0;
  });

  it('fetches the keys once and verifies tokens signed with them', async () => {
    const a = await signingKey('a');
    issuer.keys = [a.jwk];
    const keys = new IssuerKeys(url, 30_000, createLogger('silent'));
    for (let i = 0; i < 3; i++) {
      const { payload } = await jwtVerify(await a.sign(), keys.getKey, { algorithms: ['RS256'] });
      expect(payload.sub).toBe('u1');
    }
    expect(issuer.requests).toBe(1);
  });

  it('reads a key set that starts with a byte-order mark, as fetch did', async () => {
    const a = await signingKey('a');
    issuer.keys = [a.jwk];
    issuer.mode = 'bom';
    const keys = new IssuerKeys(url, 30_000, createLogger('silent'));
    const { payload } = await jwtVerify(await a.sign(), keys.getKey, { algorithms: ['RS256'] });
    expect(payload.sub).toBe('u1');
  });

  it.each<Mode>(['down', '500', 'html', 'huge'])(
    'answers 503 (not 401) when the first fetch meets an issuer that is %s',
    async (mode) => {
      const a = await signingKey('a');
      issuer.keys = [a.jwk];
      issuer.mode = mode;
      const keys = new IssuerKeys(url, 30_000, createLogger('silent'));
      await expect(jwtVerify(await a.sign(), keys.getKey)).rejects.toBeInstanceOf(IssuerKeysUnavailable);
      expect(issuer.requests).toBeGreaterThanOrEqual(1);
    },
  );

  it('keeps verifying known keys while the issuer is down, and answers 503 for an unknown kid', async () => {
    const a = await signingKey('a');
    const b = await signingKey('b');
    issuer.keys = [a.jwk];
    const keys = new IssuerKeys(url, 0, createLogger('silent'));
    await jwtVerify(await a.sign(), keys.getKey);
    issuer.mode = 'down';
    await expect(jwtVerify(await a.sign(), keys.getKey)).resolves.toBeDefined();
    await expect(jwtVerify(await b.sign(), keys.getKey)).rejects.toBeInstanceOf(IssuerKeysUnavailable);
    // Back up with the rotated key: picked up on the next unknown kid.
    issuer.mode = 'keys';
    issuer.keys = [a.jwk, b.jwk];
    await expect(jwtVerify(await b.sign(), keys.getKey)).resolves.toBeDefined();
  });

  it('gives up on an issuer that accepts the connection and never answers, within its 5 s deadline', async () => {
    const a = await signingKey('a');
    issuer.mode = 'silent';
    const keys = new IssuerKeys(url, 30_000, createLogger('silent'));
    const started = Date.now();
    await expect(jwtVerify(await a.sign(), keys.getKey)).rejects.toBeInstanceOf(IssuerKeysUnavailable);
    const ms = Date.now() - started;
    expect(ms).toBeGreaterThanOrEqual(4_900);
    expect(ms).toBeLessThan(8_000);
  }, 15_000);

  it("does not load Node's bundled undici (global fetch) to fetch the keys", async () => {
    const built = join(ROOT, 'dist/src/auth/issuer-keys.js');
    expect(existsSync(built)).toBe(true); // scripts/test.sh builds before jest; `npm run build` otherwise
    const a = await signingKey('a');
    issuer.keys = [a.jwk];
    // The child fetches from this process's issuer, so spawn it asynchronously.
    const script = `
      const { IssuerKeys } = require(${JSON.stringify(built)});
      const { createLogger } = require(${JSON.stringify(join(ROOT, 'dist/src/logger.js'))});
      const keys = new IssuerKeys(${JSON.stringify(url)}, 30000, createLogger('silent'));
      keys.getKey({ alg: 'RS256', kid: 'a' }, { payload: '', signature: '' }).then((key) => {
        const bundled = process.moduleLoadList.filter((m) => m.includes('internal/deps/undici'));
        console.log(JSON.stringify({ key: Boolean(key), bundled }));
        process.exit(0);
      }, (err) => { console.error(String(err)); process.exit(1); });`;
    const res = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['-e', script], { cwd: ROOT });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', () => resolve({ stdout, stderr }));
    });
    expect(res.stderr).toBe('');
    expect(JSON.parse(res.stdout)).toEqual({ key: true, bundled: [] });
  });
});
