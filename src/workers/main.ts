import { loadConfigOrExit } from '../config';
import { OutboxRelay } from '../events/relay';
import { createProcessLogger } from '../logger';
import { createWorker } from './worker';
import { errorMessage } from '../lib/error-message';

async function main() {
  const config = loadConfigOrExit();
  const logger = createProcessLogger(config.LOG_LEVEL, 'worker');
  if (config.TEMPORAL_CODEC_KEYS.length === 0) {
    logger.warn('TEMPORAL_CODEC_KEYS is not set: Temporal payloads use the built-in development key');
  }
  const gateway = await createWorker(config, logger);
  const { worker } = gateway;
  // Events written by activities are published from here too (several relays coordinate by lock).
  const relay = config.OUTBOX_RELAY_ENABLED ? OutboxRelay.fromConfig(config, logger) : null;
  relay?.start();
  // Worker.run() resolves after SIGINT/SIGTERM (installed by the SDK's Runtime): it stops polling
  // and lets running activities finish within shutdownGraceTime.
  logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE, address: config.TEMPORAL_ADDRESS }, 'worker started');
  await worker.run();
  await relay?.stop();
  await gateway.close();
  logger.info('worker stopped');
}

main().catch((err: unknown) => {
  process.stderr.write(`worker failed: ${errorMessage(err)}\n`);
  process.exit(1);
});
