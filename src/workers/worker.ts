import { hostname } from 'node:os';
import { NativeConnection, Runtime, Worker, makeTelemetryFilterString } from '@temporalio/worker';
import type { Config } from '../config';
import { createActivities } from '../activities';
import { ChatRequestReply } from '../chat/request-reply';
import { Database } from '../db/database';
import { AuthServiceClient } from '../upstreams/auth-service';
import { BillingClient } from '../upstreams/billing';
import { HttpUpstream } from '../upstreams/http-upstream';
import { DEFAULT_MAX_ANSWER_BYTES } from '../upstreams/pool-call';
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
  /** Chat request/reply of the activities; connects on first use, close it after the worker stops. */
  chat: ChatRequestReply;
  /** Clients of the auth activities; closed by `close()` after the worker stops. */
  authService: AuthServiceClient;
  db: Database;
  close(): Promise<void>;
}

export async function createWorker(
  config: Config,
  logger: Logger,
  overrides: { taskQueue?: string } = {},
): Promise<GatewayWorker> {
  installRuntime(logger);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const identity = `gateway-worker@${hostname()}:${process.pid}`;
  const chat = new ChatRequestReply({ config, logger, role: 'worker' });
  const authService = new AuthServiceClient(config, logger);
  const db = new Database(config, logger);
  const billingUpstream = new HttpUpstream(
    {
      name: 'billing',
      url: config.BILLING_SERVICE_URL,
      connections: 8,
      keepAliveMs: 30_000,
      // Temporal retries with backoff already; the breaker only spares a down billing the load.
      breakerThreshold: 5,
      breakerCooldownMs: 5_000,
      maxAnswerBytes: DEFAULT_MAX_ANSWER_BYTES,
    },
    logger,
  );
  const billing = new BillingClient(() => billingUpstream, config.INTERNAL_SERVICE_KEY);
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: overrides.taskQueue ?? config.TEMPORAL_TASK_QUEUE,
    identity,
    workflowsPath: require.resolve('../workflows'),
    activities: createActivities({ logger, workerIdentity: identity, chat, authService, db, config, billing }),
    dataConverter: { payloadCodecs: [AesGcmPayloadCodec.fromConfig(config.TEMPORAL_CODEC_KEYS)] },
    shutdownGraceTime: '10s',
  });
  return {
    worker,
    connection,
    chat,
    authService,
    db,
    async close() {
      await Promise.allSettled([chat.close(), authService.close(), billingUpstream.close()]);
      await db.close();
      await connection.close();
    },
  };
}
