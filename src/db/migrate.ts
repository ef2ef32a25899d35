import { loadConfigOrExit } from '../config';
import { createLogger } from '../logger';
import { initOrm, migrate } from './orm';

async function main() {
  const config = loadConfigOrExit();
  const logger = createLogger(config.LOG_LEVEL, { component: 'migrate' });
  const orm = await initOrm(config, logger);
  try {
    const applied = await migrate(orm);
    logger.info({ applied }, applied.length ? `applied ${applied.length} migration(s)` : 'database is up to date');
  } finally {
    await orm.close(true);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`migration failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
