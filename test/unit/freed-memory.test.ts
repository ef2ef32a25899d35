import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const MODULE = join(__dirname, '../../dist/src/lib/freed-memory.js');

/** Runs `body` in a fresh node with the built module as `m`; returns what it printed as JSON. */
function inFreshNode(body: string, flags = "require('node:v8').setFlagsFromString('--expose-gc');") {
  expect(existsSync(MODULE)).toBe(true); // scripts/test.sh builds before jest; `npm run build` otherwise
  const script = `${flags}\nconst m = require(${JSON.stringify(MODULE)});\n${body}`;
  const run = spawnSync(process.execPath, ['--max-semi-space-size=8', '-e', script], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

describe('returnFreedMemory (src/lib/freed-memory.ts)', () => {
  it('returns to the system the pages a regular full collection keeps, once a minute at most', () => {
    const seen = inFreshNode(`
      const rss = () => process.memoryUsage.rss() / 1048576;
      let junk = [];
      for (let i = 0; i < 600000; i++) junk.push({ i, s: 'x' + i });
      junk = null;
      require('node:vm').runInNewContext('gc')(); // a regular full collection: the pages stay pooled
      const pooled = rss();
      const pause = m.returnFreedMemory();
      const after = rss();
      const again = m.returnFreedMemory();
      process.stdout.write(JSON.stringify({ pooled, after, pause, again: again === undefined }));
    `);
    expect(seen.pause).toEqual(expect.any(Number));
    expect((seen.pooled as number) - (seen.after as number)).toBeGreaterThan(10);
    expect(seen.again).toBe(true);
  });

  it('does nothing where the GC extension is not installed (the worker, tests)', () => {
    const seen = inFreshNode('process.stdout.write(JSON.stringify({ pause: m.returnFreedMemory() ?? null }));', '');
    expect(seen.pause).toBeNull();
  });
});
