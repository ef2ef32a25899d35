// Before kafkajs: see src/kafka/fixes.ts.
import '../kafka/fixes';
import {
  Partitioners,
  type Admin,
  type Consumer,
  type EachMessagePayload,
  type ISocketFactory,
  type Kafka,
  type Producer,
} from 'kafkajs';
import type { Config } from '../config';
import { createKafka } from '../kafka/client';
import { KafkaSockets } from '../kafka/sockets';
import { sleep, within } from '../lib/wait';
import type { Logger } from '../logger';
import { CHAT_MAX_MESSAGE_BYTES } from './limits';
import { ChatLink } from './link';

export interface ChatConnectionOptions {
  config: Config;
  logger: Logger;
  /** Consumer group prefix, unique per process; a generation number is appended per connection. */
  instanceId: string;
  tuning: { maxWaitTimeInMs: number; minBytes: number };
  onMessage(payload: EachMessagePayload): Promise<void>;
  socketFactory?: ISocketFactory;
  /** A reply consumer unavailable this long while no connect runs is rebuilt (default 10 s). */
  recoverAfterMs?: number;
}

/** Retries every half second for about ten minutes: the consumer notices a returning broker at once. */
const OUTAGE_RETRY = { retries: 1_200, initialRetryTime: 100, maxRetryTime: 500 };

/**
 * Sends retry once, briefly, on a client of their own: the consumer's outage retry would hold a
 * send (and every send queued behind it) for as long as Kafka is away, and a call must fail
 * within a second.
 */
const SEND_RETRY = { retries: 1, initialRetryTime: 100, maxRetryTime: 200 };
const SEND_CONNECTION_TIMEOUT_MS = 1_000;

/** How often the consumer's recovery is checked. */
const RECOVERY_CHECK_MS = 1_000;

/** One attempt to read the reply topic's end offsets on joining. */
const OFFSETS_FETCH_TIMEOUT_MS = 5_000;

/**
 * The Kafka side of the chat client: one producer for requests and one consumer of the reply
 * topic, (re)connected in the background for as long as the process runs. Sends retry for half a
 * second only, so an outage shows at once in `link`; the consumer retries every half second, so a
 * returning broker is picked up within about a second, without a restart.
 */
export class ChatConnection {
  readonly link: ChatLink;
  private readonly kafka: Kafka;
  private readonly sendKafka: Kafka;
  private readonly log: Logger;
  private readonly sockets: KafkaSockets;
  private producer?: Producer;
  private consumer?: Consumer;
  private admin?: Admin;
  /** Next offset per partition of the reply topic, to resume there after a reconnect. */
  private readonly positions = new Map<number, string>();
  /** kafkajs' disconnect() waits forever on a client that never connected: only these are disconnected. */
  private readonly connected = new Set<Producer | Consumer | Admin>();
  private generation = 0;
  private closing = false;
  private connecting?: Promise<void>;
  /** True while connectLoop runs (the watchdog leaves a connect in progress alone). */
  private inConnect = false;
  private unavailableSince?: number;
  private watchdog?: NodeJS.Timeout;
  /** Wait before the next rebuild: none for the first, growing while they follow each other. */
  private readonly rebuildDelay = new CrashBackoff();
  /** A rebuild is queued (disconnecting or waiting) and its connectLoop has not started yet. */
  private rebuildPending = false;

  constructor(private readonly options: ChatConnectionOptions) {
    this.log = options.logger;
    this.link = new ChatLink(Math.max(1_500, options.tuning.maxWaitTimeInMs * 10));
    this.sockets = new KafkaSockets(options.socketFactory, () => {
      if (!this.closing) this.link.connectionFailed();
    });
    const configured = options.config.CHAT_SERVICE_KAFKA_BOOTSTRAP_SERVERS;
    // A connect still retrying an unreachable broker at close() would go on for OUTAGE_RETRY's ten
    // minutes: once closing, kafkajs finds no broker to try, which ends its retry at once.
    const brokers = () => (this.closing ? [] : configured);
    const clientId = `${options.config.KAFKA_CLIENT_ID}-chat`;
    const socketFactory = this.sockets.factory;
    this.kafka = createKafka(configured, clientId, options.logger, { retry: OUTAGE_RETRY, socketFactory, brokers });
    this.sendKafka = createKafka(configured, clientId, options.logger, {
      retry: SEND_RETRY,
      connectionTimeout: SEND_CONNECTION_TIMEOUT_MS,
      socketFactory,
      brokers,
    });
  }

  /** The current producer (replaced on every reconnect). */
  get currentProducer(): Producer | undefined {
    return this.producer;
  }

  start(): void {
    this.connecting ??= this.connectLoop();
    this.watchdog ??= setInterval(() => this.checkRecovery(), RECOVERY_CHECK_MS).unref();
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.watchdog);
    this.link.lost('the gateway is shutting down');
    this.link.wake(true);
    await within(this.connecting ?? Promise.resolve(), 5_000);
    await this.disconnect();
  }

  /** Records where the reply consumer stands (called for every reply read). */
  consumed(partition: number, offset: string): void {
    this.positions.set(partition, (BigInt(offset) + 1n).toString());
  }

  /**
   * A consumer can stay out of its group without a crash event (after a broker restart kafkajs
   * was seen retrying JoinGroup against a coordinator that was still loading, for minutes): when
   * the link stays down with no connect in progress, rebuild it in a fresh group, as after a crash.
   */
  private checkRecovery(now = Date.now()): void {
    if (this.closing || this.inConnect || this.rebuildPending || this.link.available) {
      this.unavailableSince = undefined;
      return;
    }
    this.unavailableSince ??= now;
    if (now - this.unavailableSince < (this.options.recoverAfterMs ?? 10_000)) return;
    this.unavailableSince = undefined;
    this.log.warn({ problem: this.link.problem }, 'chat reply consumer has not recovered; rebuilding it');
    this.reconnect('the reply consumer did not recover');
  }

  private async connectLoop(): Promise<void> {
    this.inConnect = true;
    this.rebuildPending = false;
    try {
      await this.connectUntilUp();
    } finally {
      this.inConnect = false;
    }
  }

  private async connectUntilUp(): Promise<void> {
    let delay = 100;
    while (!this.closing) {
      try {
        await this.connectOnce();
        return;
      } catch (err) {
        await this.disconnect();
        if (this.closing) return;
        this.link.lost('Kafka is unreachable');
        this.log.warn({ err: String(err), retry_in_ms: delay }, 'chat reply consumer could not start; retrying');
        await sleep(delay);
        // Short ceiling: a broker that is back is found within a second.
        delay = Math.min(delay * 2, 500);
      }
    }
  }

  /**
   * Rebuilds the connection in a fresh group. After a broker restart every JoinGroup can fail at
   * once ("the coordinator is loading"), and a rebuild right after each crash spun: a gateway of the
   * benchmark made up to 22 groups, producers and admin clients within about a second of a restart,
   * 62 over the six restarts of one run (7 December). Rebuilds that follow each other (crashes,
   * failed positioning, the watchdog) now wait 100 ms, doubling up to 1 s, until a consumer has
   * stayed positioned for 5 s; one rebuild is queued at a time.
   */
  private reconnect(reason: string): void {
    if (this.closing) return;
    this.link.lost(reason);
    // The rebuild already queued replaces whatever asked for this one.
    if (this.rebuildPending) return;
    this.rebuildPending = true;
    const wait = this.rebuildDelay.next();
    const previous = this.connecting ?? Promise.resolve();
    this.connecting = previous
      .then(() => this.disconnect())
      .then(() => (wait > 0 && !this.closing ? sleep(wait) : undefined))
      .then(() => this.connectLoop());
  }

  private async connectOnce(): Promise<void> {
    const { config, tuning } = this.options;
    const topic = config.CHAT_SERVICE_RESPONSES_TOPIC;
    // Not idempotent: kafkajs' idempotent producer retries a send for ever while Kafka is away,
    // and a bounded retry is what lets a request fail fast. The chat service dedupes by request_id.
    const producer = (this.producer = this.sendKafka.producer({
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: SEND_RETRY,
    }));
    const admin = (this.admin = this.kafka.admin());
    // A group of its own per connection: this instance sees every reply, and a reconnect after an
    // outage never waits for the broker to expire the previous member. Nothing is committed.
    this.generation += 1;
    const consumer = (this.consumer = this.kafka.consumer({
      groupId: `${this.options.instanceId}-${this.generation}`,
      maxWaitTimeInMs: tuning.maxWaitTimeInMs,
      minBytes: tuning.minBytes,
      maxBytes: CHAT_MAX_MESSAGE_BYTES,
      maxBytesPerPartition: CHAT_MAX_MESSAGE_BYTES,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      // Rides out an outage in its group (a broker that is back knows the member: no rejoin wait);
      // a crash after that is handled below (a fresh connection), not by kafkajs' restart.
      retry: { ...OUTAGE_RETRY, restartOnFailure: async () => false },
    }));
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      const assigned = event.payload.memberAssignment[topic] ?? [];
      this.onJoin(consumer, admin, topic, assigned).catch((err: unknown) => {
        // Without a position calls would never be released: start over rather than wait.
        this.log.warn({ err: String(err) }, 'chat reply consumer could not position itself; reconnecting');
        if (this.consumer === consumer) this.reconnect('the reply consumer could not position itself');
      });
    });
    consumer.on(consumer.events.REBALANCING, () => this.link.lost('the reply consumer is rejoining its group'));
    consumer.on(consumer.events.FETCH, () => this.link.fetched());
    consumer.on(consumer.events.CRASH, (event) => {
      if (this.consumer !== consumer) return;
      this.log.warn({ err: String(event.payload.error) }, 'chat reply consumer lost Kafka; reconnecting');
      this.reconnect('the reply consumer lost Kafka');
    });
    // close() may come while connecting: stop, and let connectLoop disconnect what was opened.
    const step = async (connect: Promise<void>, client: Producer | Consumer | Admin) => {
      await connect;
      this.connected.add(client);
      if (this.closing) throw new Error('closing');
    };
    await step(producer.connect(), producer);
    await step(admin.connect(), admin);
    await step(consumer.connect(), consumer);
    await consumer.subscribe({ topic, fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 4,
      eachMessage: (payload) => this.options.onMessage(payload),
    });
  }

  /**
   * After (re)joining: continue where this instance stopped reading, or at the end of the topic
   * as it is now. Only then are calls released, so no reply to them can be skipped.
   */
  private async onJoin(consumer: Consumer, admin: Admin, topic: string, partitions: number[]) {
    // A topic that was just created may not have its leaders yet: a few short retries. kafkajs
    // retries a topic it cannot find for minutes: an attempt that takes that long counts as failed.
    let offsets: Awaited<ReturnType<Admin['fetchTopicOffsets']>> = [];
    for (let attempt = 1; ; attempt += 1) {
      try {
        const fetched = await within(admin.fetchTopicOffsets(topic), OFFSETS_FETCH_TIMEOUT_MS);
        if (!fetched) throw new Error(`the offsets of ${topic} did not come within ${OFFSETS_FETCH_TIMEOUT_MS} ms`);
        offsets = fetched;
        break;
      } catch (err) {
        if (attempt >= 5 || this.consumer !== consumer) throw err;
        await sleep(200 * attempt);
      }
    }
    for (const partition of partitions) {
      const latest = offsets.find((o) => o.partition === partition)?.high ?? '0';
      consumer.seek({ topic, partition, offset: this.positions.get(partition) ?? latest });
    }
    if (this.consumer !== consumer) return;
    this.rebuildDelay.positioned();
    this.link.joinedGroup();
    this.log.debug({ partitions, group: `${this.options.instanceId}-${this.generation}` }, 'chat reply consumer ready');
  }

  private async disconnect(): Promise<void> {
    const { consumer, producer, admin } = this;
    this.consumer = undefined;
    this.producer = undefined;
    this.admin = undefined;
    const clients = [consumer, producer, admin].filter((c) => c !== undefined && this.connected.delete(c));
    // A client stuck reconnecting can take long to let go: bound it.
    await within(Promise.allSettled(clients.map((c) => c!.disconnect())), 5_000);
    // No client is left (the next ones are created after this): whatever is still open is orphaned.
    const orphans = this.sockets.endAll();
    if (orphans > 0) this.log.debug({ sockets: orphans }, 'chat Kafka sockets left open by kafkajs closed');
  }
}

/**
 * The waits between rebuilds that follow each other: 0 (the first is at once), then 100 ms doubling
 * up to 1 s. It starts over only once a consumer has stayed positioned for `stableMs`: one that
 * joins and crashes again at once keeps backing off.
 */
export class CrashBackoff {
  private nextMs = 0;
  private positionedAt?: number;

  constructor(private readonly stableMs = 5_000) {}

  /** The wait before the rebuild that starts now. */
  next(now = Date.now()): number {
    if (this.positionedAt !== undefined && now - this.positionedAt >= this.stableMs) this.nextMs = 0;
    this.positionedAt = undefined;
    const wait = this.nextMs;
    this.nextMs = Math.min(Math.max(wait * 2, 100), 1_000);
    return wait;
  }

  /** The consumer is positioned and serving. */
  positioned(now = Date.now()): void {
    this.positionedAt = now;
  }
}
