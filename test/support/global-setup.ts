import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/**
 * Brings the local stack up (idempotent; a no-op when scripts/test.sh already did) and applies
 * migrations, so any `npx jest …` run works on its own.
 */
export default async function globalSetup(): Promise<void> {
  if (!process.env.GATEWAY_TEST_EXTERNAL_STACK) {
    execFileSync('bash', [join(ROOT, 'scripts', 'stack.sh'), 'up'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  await import('./load-stack-env');
  const { loadConfig } = await import('../../src/config');
  const { initOrm, migrate } = await import('../../src/db/orm');
  const orm = await initOrm(loadConfig({ ...process.env, LOG_LEVEL: 'silent' }));
  try {
    await migrate(orm);
  } finally {
    await orm.close(true);
  }
  if (!existsSync(join(ROOT, 'dist', 'src', 'api', 'server.js'))) {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  }
}
