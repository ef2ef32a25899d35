import { hostname } from 'node:os';
import { NativeConnection, Runtime, Worker, makeTelemetryFilterString } from '@temporalio/worker';
import type { Config } from '../config';
import { createActivities } from '../activities';
import type { Logger } from '../logger';
import { AesGcmPayloadCodec } from '../temporal/codec';

let runtimeInstalled = false;

/** Routes the Temporal core's own logs to pino once per process. */
function installRuntime(logger: Logger) {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const log = logger.child({ component: 'temporal-worker' });
  Runtime.install({
    logger: {
      log: (level, message, meta) =>
        log[level === 'TRACE' ? 'trace' : (level.toLowerCase() as 'info')](meta ?? {}, message),
      trace: (m, meta) => log.trace(meta ?? {}, m),
      debug: (m, meta) => log.debug(meta ?? {}, m),
      info: (m, meta) => log.info(meta ?? {}, m),
      warn: (m, meta) => log.warn(meta ?? {}, m),
      error: (m, meta) => log.error(meta ?? {}, m),
    },
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} } },
  });
}

export interface GatewayWorker {
  worker: Worker;
  connection: NativeConnection;
}

export async function createWorker(
  config: Config,
  logger: Logger,
  overrides: { taskQueue?: string } = {},
): Promise<GatewayWorker> {
  installRuntime(logger);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const identity = `gateway-worker@${hostname()}:${process.pid}`;
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: overrides.taskQueue ?? config.TEMPORAL_TASK_QUEUE,
    identity,
    workflowsPath: require.resolve('../workflows'),
    activities: createActivities({ logger, workerIdentity: identity }),
    dataConverter: { payloadCodecs: [AesGcmPayloadCodec.fromConfig(config.TEMPORAL_CODEC_KEYS)] },
    shutdownGraceTime: '10s',
  });
  return { worker, connection };
}
