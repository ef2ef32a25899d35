import { loadConfigOrExit } from '../config';
import { createProcessLogger } from '../logger';
import { initOrm, migrate } from './orm';
import { errorMessage } from '../lib/error-message';

async function main() {
  const config = loadConfigOrExit();
  const logger = createProcessLogger(config.LOG_LEVEL, 'migrate');
  const orm = await initOrm(config, logger);
  try {
    const applied = await migrate(orm);
    logger.info({ applied }, applied.length ? `applied ${applied.length} migration(s)` : 'database is up to date');
  } finally {
    await orm.close(true);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`migration failed: ${errorMessage(err)}\n`);
  process.exit(1);
});
