import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';
import { Database } from '../db/database';
import { createKafka } from '../kafka/client';
import { OutboxRelay } from '../events/relay';
import type { Logger } from '../logger';
import { AesGcmPayloadCodec } from '../temporal/codec';
import { temporalCallsSettled } from '../temporal/update-with-start';
import type { DependencyProbe } from './health';
import { ChatRequestReply } from '../chat/request-reply';
import { AuthServiceClient } from '../upstreams/auth-service';
import { TokenDenylist } from '../auth/denylist';
import { TokenVerifier } from '../auth/token-verifier';
import { OutboxWriter } from '../events/outbox-writer';
import { AccessEventPublisher } from '../events/access-events';

/** Everything the API talks to, created once per process and closed on shutdown. */
export interface GatewayDependencies {
  /** The pooled PostgreSQL connections of this process. */
  db: Database;
  temporal: { connection: Connection; client: Client };
  codec: AesGcmPayloadCodec;
  /** Publishes the outbox to Kafka (null when OUTBOX_RELAY_ENABLED=false); safe in every replica. */
  relay?: OutboxRelay | null;
  authService: AuthServiceClient;
  denylist: TokenDenylist;
  tokenVerifier: TokenVerifier;
  outboxWriter: OutboxWriter;
  /** The one batching Kafka producer of this process's access events (never awaited by a request). */
  accessEvents: AccessEventPublisher;
  probes: DependencyProbe[];
  /** The one chat request/reply client of this process (routes use it; the worker has its own). */
  chat: ChatRequestReply;
  close(): Promise<void>;
}

export async function createDependencies(config: Config, logger: Logger): Promise<GatewayDependencies> {
  const db = new Database(config, logger);
  const codec = AesGcmPayloadCodec.fromConfig(config.TEMPORAL_CODEC_KEYS);
  if (config.TEMPORAL_CODEC_KEYS.length === 0) {
    logger.warn('TEMPORAL_CODEC_KEYS is not set: Temporal payloads use the built-in development key');
  }
  // Lazy: the gateway starts (and reports "temporal: down" on /health/ready) while Temporal is away.
  const connection = Connection.lazy({ address: config.TEMPORAL_ADDRESS, connectTimeout: '3s' });
  const client = new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter: { payloadCodecs: [codec] },
  });

  const kafka = kafkaProbe(config, logger);
  const authService = new AuthServiceClient(config, logger);
  const denylist = new TokenDenylist(config.DATABASE_URL, db, logger, config.DENYLIST_MAX_STALENESS);
  await denylist.start();
  const tokenVerifier = new TokenVerifier(config, authService, denylist, logger);
  const outboxWriter = new OutboxWriter(db, config, logger, config.OUTBOX_WRITE_BUFFER_EVENTS);
  const accessEvents = new AccessEventPublisher({ config, logger });

  const relay = config.OUTBOX_RELAY_ENABLED ? OutboxRelay.fromConfig(config, logger) : null;
  relay?.start();

  // Connects in the background: the gateway starts (and chat calls answer 503) while Kafka is away.
  const chat = new ChatRequestReply({ config, logger, role: 'api' });
  chat.start();
  const probes = dependencyProbes(config, { db, connection, authService, chat, kafka: kafka.probe });

  return {
    db,
    chat,
    temporal: { connection, client },
    codec,
    authService,
    relay,
    denylist,
    tokenVerifier,
    outboxWriter,
    accessEvents,
    probes,
    async close() {
      // Flush queued events first, so this process's relay still publishes them on its way out.
      await outboxWriter.close();
      await Promise.allSettled([
        accessEvents.close(),
        chat.close(),
        relay?.stop(),
        kafka.close(),
        temporalCallsSettled().then(() => connection.close()),
        authService.close(),
        denylist.close(),
      ]);
      await db.close();
    },
  };
}

/** The Kafka readiness probe's own admin client (no retries, the probe's timeout). */
function kafkaProbe(config: Config, logger: Logger): { probe: DependencyProbe; close(): Promise<void> } {
  const admin = createKafka(config.KAFKA_BOOTSTRAP_SERVERS, `${config.KAFKA_CLIENT_ID}-health`, logger, {
    retry: { retries: 0 },
    connectionTimeout: config.HEALTH_CHECK_TIMEOUT_MS,
    requestTimeout: config.HEALTH_CHECK_TIMEOUT_MS,
  }).admin();
  // kafkajs' disconnect() waits forever on an admin that never connected.
  let used = false;
  return {
    probe: {
      name: 'kafka',
      check: async () => {
        used = true;
        await admin.connect();
        const cluster = await admin.describeCluster();
        if (cluster.brokers.length === 0) throw new Error('no brokers');
      },
    },
    close: async () => {
      if (used) await admin.disconnect();
    },
  };
}

/** What /health/ready reports, in this order (informational: see health.ts). */
function dependencyProbes(
  config: Config,
  deps: {
    db: Database;
    connection: Connection;
    authService: AuthServiceClient;
    chat: ChatRequestReply;
    kafka: DependencyProbe;
  },
): DependencyProbe[] {
  const { db, connection, authService, chat } = deps;
  return [
    {
      name: 'postgres',
      check: async () => {
        await db.execute('select 1');
      },
    },
    deps.kafka,
    {
      name: 'temporal',
      check: async () => {
        await connection.ensureConnected();
        const res = await connection.withDeadline(Date.now() + config.HEALTH_CHECK_TIMEOUT_MS, () =>
          connection.healthService.check({}),
        );
        // 1 = SERVING in grpc.health.v1.HealthCheckResponse.ServingStatus
        if (Number(res.status) !== 1) throw new Error(`status ${String(res.status)}`);
      },
    },
    {
      name: 'auth-service',
      check: async () => {
        const status = await authService.probe(config.HEALTH_CHECK_TIMEOUT_MS);
        if (status >= 500) throw new Error(`HTTP ${status}`);
      },
    },
    {
      // A real round trip through the chat service (chat_get_settings needs no user), for information.
      name: 'chat-service',
      check: async () => {
        if (!chat.isReady) throw new Error(chat.problem ?? 'not connected');
        await chat.request('chat_get_settings', {}, { timeoutMs: config.HEALTH_CHECK_TIMEOUT_MS });
      },
    },
  ];
}
