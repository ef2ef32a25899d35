import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../support/stack';

describe('a wrong env value', () => {
  it.each([
    ['gateway', 'dist/src/api/server.js'],
    ['worker', 'dist/src/workers/main.js'],
    ['migrate', 'dist/src/db/migrate.js'],
  ])('stops the %s with a one-line error naming the variable', (_name, entry) => {
    const res = spawnSync(process.execPath, [join(ROOT, entry)], {
      env: { PATH: process.env.PATH, PORT: 'eighty', KAFKA_BOOTSTRAP_SERVERS: 'no-port' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(res.status).toBe(1);
    const lines = res.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      'Invalid configuration: PORT must be an integer (got "eighty"); KAFKA_BOOTSTRAP_SERVERS "no-port" is not host:port',
    );
    expect(res.stdout).toBe('');
  });

  it('refuses production defaults', () => {
    const res = spawnSync(process.execPath, [join(ROOT, 'dist/src/api/server.js')], {
      env: { PATH: process.env.PATH, NODE_ENV: 'production' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(res.status).toBe(1);
    expect(res.stderr.trim()).toMatch(
      /^Invalid configuration: INTERNAL_SERVICE_KEY must be changed from its default in production; TEMPORAL_CODEC_KEYS must be set/,
    );
  });
});
