import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as undici from 'undici';
import * as lean from '../../src/upstreams/undici-lean';

const ROOT = join(__dirname, '../..');

describe('undici-lean', () => {
  it('exports the same Agent and errors as the undici package', () => {
    expect(lean.Agent).toBe(undici.Agent);
    expect(lean.errors).toBe(undici.errors);
    expect(new lean.errors.HeadersTimeoutError()).toBeInstanceOf(undici.errors.UndiciError);
  });

  it('keeps the auth-service client from loading the undici package index (fetch, WebSocket, cookies)', () => {
    const built = join(ROOT, 'dist/src/upstreams/auth-service.js');
    expect(existsSync(built)).toBe(true); // scripts/test.sh builds before jest; `npm run build` otherwise
    const script = `
      require(${JSON.stringify(built)});
      const loaded = Object.keys(require.cache).filter((f) => f.includes('/node_modules/undici/'));
      console.log(JSON.stringify(loaded.map((f) => f.split('/node_modules/undici/')[1])));`;
    const res = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
    expect(res.stderr).toBe('');
    const files = JSON.parse(res.stdout) as string[];
    expect(files).toContain('lib/dispatcher/agent.js');
    // Calls use the Agent's dispatch API (src/upstreams/pool-call.ts), not the request API and its streams.
    expect(files).not.toContain('lib/api/api-request.js');
    expect(files).not.toContain('index.js');
    expect(files.filter((f) => f.startsWith('lib/web/'))).toEqual([]);
  });
});
