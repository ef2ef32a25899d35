import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');

describe('the API process V8 flags (src/api/v8-flags.ts)', () => {
  it('turns allocation-site pretenuring and Maglev off and installs the GC extension before any other gateway module loads', () => {
    const server = join(ROOT, 'dist/src/api/server.js');
    expect(existsSync(server)).toBe(true); // scripts/test.sh builds before jest; `npm run build` otherwise
    // Records the first setFlagsFromString call and which of the gateway's modules were loaded by
    // then, and stops the process there (before server.js reads its configuration).
    const script = `
      const v8 = require('node:v8');
      v8.setFlagsFromString = (flags) => {
        const loaded = Object.keys(require.cache).filter((k) => k.includes('/dist/src/')).map((k) => k.split('/dist/src/')[1]);
        process.stdout.write(JSON.stringify({ flags, loaded }));
        process.exit(0);
      };
      require(${JSON.stringify(server)});
    `;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(run.stderr).toBe('');
    const seen = JSON.parse(run.stdout) as { flags: string; loaded: string[] };
    expect(seen.flags).toBe('--no-allocation-site-pretenuring --no-maglev --expose-gc');
    expect(seen.loaded.sort()).toEqual(['api/server.js', 'api/v8-flags.js']);
  });
});
