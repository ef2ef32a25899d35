// First: V8 settings that must hold before the other modules allocate anything.
import './v8-flags';
import { getHeapStatistics } from 'node:v8';
import closeWithGrace from 'close-with-grace';
import { loadConfigOrExit } from '../config';
import { createProcessLogger } from '../logger';
import { createAdminServer } from './admin';
import { createServer } from './app';
import { createDependencies } from './dependencies';
import { errorMessage } from '../lib/error-message';

async function main() {
  const config = loadConfigOrExit();
  const logger = createProcessLogger(config.LOG_LEVEL, 'api');
  const deps = await createDependencies(config, logger);
  const app = await createServer(config, logger, deps);
  const admin = await createAdminServer(config, logger, app);

  // SIGTERM/SIGINT: stop accepting, let in-flight requests finish (up to the grace period), then
  // always flush buffered events and close clients (the drain time); only then the hard exit.
  const hardStopMs = config.SHUTDOWN_GRACE_MS + config.SHUTDOWN_DRAIN_MS;
  // SIGHUP is not one of them: it reloads the route table (src/api/plugins/route-table.ts).
  closeWithGrace({ delay: hardStopMs, logger, skip: ['SIGHUP'] }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'shutting down after an error');
    else logger.info({ signal }, 'shutting down');
    const graceOver = new Promise<'grace over'>((resolve) =>
      setTimeout(() => resolve('grace over'), config.SHUTDOWN_GRACE_MS).unref(),
    );
    if ((await Promise.race([Promise.all([app.close(), admin.close()]), graceOver])) === 'grace over')
      logger.warn('requests still in flight after SHUTDOWN_GRACE_MS; closing clients anyway');
    await deps.close();
    logger.info('dependencies closed');
  });

  await app.listen({ host: config.HOST, port: config.PORT });
  await admin.listen({ host: config.ADMIN_HOST, port: config.ADMIN_PORT });
  // Shows whether the memory flags of the image (Dockerfile, NODE_OPTIONS) are in effect: about 530
  // with them; without them V8 derives the cap from the machine's memory (about 4300 on 24 GB).
  logger.info({ heap_limit_mb: Math.round(getHeapStatistics().heap_size_limit / 2 ** 20) }, 'V8 heap limit');
}

main().catch((err: unknown) => {
  process.stderr.write(`gateway failed to start: ${errorMessage(err)}\n`);
  process.exit(1);
});
