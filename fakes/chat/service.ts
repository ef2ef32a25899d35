// Before kafkajs: see src/kafka/fixes.ts.
import '../../src/kafka/fixes';
import { randomUUID } from 'node:crypto';
import { Partitioners, type Consumer, type EachMessagePayload, type Kafka, type Producer } from 'kafkajs';
import { BatchingProducer } from '../../src/kafka/batching-producer';
import { pushBounded, setBounded } from '../../src/lib/bounded-map';
import { CHAT_MAX_MESSAGE_BYTES } from '../../src/chat/limits';
import { createKafka } from '../../src/kafka/client';
import { KafkaSockets } from '../../src/kafka/sockets';
import type { Logger } from '../../src/logger';
import { errorReply, handleRequest, type Reply } from './handle';
import { ChatFakeStore } from './store';
import { DEFAULT_SWITCHES, type ChatFakeSwitches } from './switches';
import { varyEnvelope, varyPayload } from './variance';

export interface ChatFakeTopics {
  requests: string[];
  responses: string;
  events: string;
}

export interface ChatFakeOptions {
  brokers: string[];
  topics: ChatFakeTopics;
  logger: Logger;
  /** Consumer group of the fake (a real service keeps one stable group). */
  groupId?: string;
  /** Read requests already on the topics (tests with fresh topics). */
  fromBeginning?: boolean;
  switches?: Partial<ChatFakeSwitches>;
}

export interface ReceivedRequest {
  topic: string;
  key: string | undefined;
  headers: Record<string, string>;
  envelope: Record<string, unknown>;
}

/** Requests (and answers, for repeats) remembered; a long-running fake must not grow forever. */
const MAX_LOGGED_REQUESTS = 50_000;
const sleep = (ms: number) => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

/**
 * A faithful stand-in for the chat service: speaks chat-kafka.md over a real broker, keeps its
 * data in memory per user, streams AI answers token by token, answers a repeated request_id
 * again without applying it twice, and misbehaves on demand (`switches`).
 */
export class ChatServiceFake {
  readonly store = new ChatFakeStore();
  readonly received: ReceivedRequest[] = [];
  /** request ids named by a chat_cancel */
  readonly cancelled = new Set<string>();
  switches: ChatFakeSwitches;
  private readonly kafka: Kafka;
  private readonly sockets = new KafkaSockets();
  private readonly log: Logger;
  private consumer?: Consumer;
  private producer?: Producer;
  /** Replies to concurrent requests share produce requests, as a real service's producer would. */
  private readonly replies = new BatchingProducer(() => this.producer, { acks: -1 });
  /** request_id → the replies it got, to answer a repeat without re-applying it. */
  private readonly answered = new Map<string, Reply[]>();
  private readonly inFlight = new Set<string>();
  private readonly tasks = new Set<Promise<void>>();
  private stopped = false;
  /** Next offset to commit per `topic:partition`, committed once a second (see start()). */
  private readonly consumed = new Map<string, { topic: string; partition: number; offset: string }>();
  private commitTimer?: NodeJS.Timeout;
  private committing?: Promise<void>;

  constructor(private readonly options: ChatFakeOptions) {
    this.log = options.logger.child({ component: 'chat-fake' });
    // Retries through a broker outage (about 15 minutes) instead of crashing: a crashed kafkajs
    // consumer rejoins as a new member, and the broker holds the group until the old one expires.
    // Once stopped, no broker to connect to: a commit or fetch still in that retry loop ends at once
    // instead of keeping the process (a jest worker) alive, as the gateway's chat client does.
    this.kafka = createKafka(options.brokers, 'chat-service-fake', options.logger, {
      retry: { retries: 1_000, initialRetryTime: 100, maxRetryTime: 1_000 },
      socketFactory: this.sockets.factory,
      brokers: () => (this.stopped ? [] : options.brokers),
    });
    this.switches = { ...DEFAULT_SWITCHES, ...options.switches };
  }

  /** Changes switches (merged into the current ones); `reset()` puts the defaults back. */
  set(switches: Partial<ChatFakeSwitches>): void {
    this.switches = { ...this.switches, ...switches };
  }

  reset(): void {
    this.switches = { ...DEFAULT_SWITCHES };
  }

  /** Requests received for an operation, in arrival order. */
  requests(operation: string): ReceivedRequest[] {
    return this.received.filter((r) => r.envelope.operation === operation);
  }

  async start(): Promise<void> {
    this.producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      // kafkajs' own default for an idempotent producer (unbounded), with the client's short backoff.
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 1_000 },
    });
    this.consumer = this.kafka.consumer({
      groupId: this.options.groupId ?? 'chat-service-fake',
      maxWaitTimeInMs: 100,
      minBytes: 1,
      // Documents make requests of up to CHAT_MAX_MESSAGE_BYTES (docs/chat-kafka-limits.md).
      maxBytes: CHAT_MAX_MESSAGE_BYTES,
      maxBytesPerPartition: CHAT_MAX_MESSAGE_BYTES,
    });
    await this.producer.connect();
    await this.consumer.connect();
    const joined = new Promise<void>((resolve) => this.consumer!.on(this.consumer!.events.GROUP_JOIN, () => resolve()));
    await this.consumer.subscribe({
      topics: this.options.topics.requests,
      fromBeginning: this.options.fromBeginning ?? false,
    });
    // Offsets are committed once a second, not after every batch (kafkajs' autoCommit): a commit
    // per batch put an OffsetCommit round trip between consecutive fetches, and requests that
    // arrived meanwhile waited for it (chat p50 at 300 req/s: 11 ms with it).
    await this.consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 8,
      eachMessage: async (payload) => {
        this.consumed.set(`${payload.topic}:${payload.partition}`, {
          topic: payload.topic,
          partition: payload.partition,
          offset: (BigInt(payload.message.offset) + 1n).toString(),
        });
        // Not awaited: a long stream must not hold up the chat_cancel that stops it.
        const task = this.onMessage(payload).catch((err: unknown) =>
          this.log.error({ err: String(err) }, 'chat fake failed to handle a request'),
        );
        this.tasks.add(task);
        void task.finally(() => this.tasks.delete(task));
      },
    });
    await joined;
    this.commitTimer = setInterval(() => void this.commitRound(), 1_000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.commitTimer);
    // A round the timer started may still be running: the last one follows it.
    await this.committing;
    await this.commitConsumed();
    await this.consumer?.disconnect();
    await Promise.allSettled([...this.tasks]);
    await this.producer?.disconnect();
    // After a broker restart kafkajs' disconnect() can miss the consumer's coordinator connection.
    this.sockets.endAll();
  }

  /** One timer round; `stop()` waits for it. */
  private commitRound(): void {
    this.committing ??= this.commitConsumed().finally(() => (this.committing = undefined));
  }

  private async commitConsumed(): Promise<void> {
    if (!this.consumer || this.consumed.size === 0) return;
    const offsets = [...this.consumed.values()];
    this.consumed.clear();
    try {
      await this.consumer.commitOffsets(offsets);
    } catch (err) {
      // Kept for the next round unless a newer offset has come in meanwhile.
      for (const o of offsets) {
        const key = `${o.topic}:${o.partition}`;
        if (!this.consumed.has(key)) this.consumed.set(key, o);
      }
      this.log.debug({ err: String(err) }, 'chat fake could not commit offsets; retrying');
    }
  }

  private applies(operation: string): boolean {
    return this.switches.operations === null || this.switches.operations.includes(operation);
  }

  private async onMessage({ topic, message }: EachMessagePayload): Promise<void> {
    const headers = Object.fromEntries(
      Object.entries(message.headers ?? {}).map(([k, v]) => [k, Array.isArray(v) ? String(v[0]) : String(v)]),
    );
    let envelope: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(message.value?.toString() ?? '');
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      envelope = parsed as Record<string, unknown>;
    } catch {
      this.log.warn({ topic }, 'unreadable request dropped');
      return;
    }
    pushBounded(this.received, { topic, key: message.key?.toString(), headers, envelope }, MAX_LOGGED_REQUESTS);

    const requestId = typeof envelope.request_id === 'string' ? envelope.request_id : headers.request_id;
    const operation = typeof envelope.operation === 'string' ? envelope.operation : (headers.operation ?? '');
    const replyTo =
      (typeof envelope.reply_to === 'string' && envelope.reply_to) || headers.reply_to || this.options.topics.responses;
    if (!requestId) {
      this.log.warn({ topic, operation }, 'request without request_id dropped');
      return;
    }
    if (operation === 'chat_cancel') {
      const target = (envelope.payload as { cancel_request_id?: unknown } | undefined)?.cancel_request_id;
      if (typeof target === 'string') this.cancelled.add(target);
      return;
    }

    const earlier = this.answered.get(requestId);
    if (earlier) {
      await this.sendAll(replyTo, requestId, operation, earlier);
      return;
    }
    if (this.inFlight.has(requestId)) return;
    this.inFlight.add(requestId);
    try {
      const misbehave = this.applies(operation);
      if (misbehave) await sleep(this.switches.delayMs);
      if (misbehave && this.switches.silent) return;
      const replies =
        misbehave && this.switches.error !== null
          ? [errorReply(this.switches.error)]
          : handleRequest(this.store, operation, envelope.payload, this.switches.chunkPadBytes);
      setBounded(this.answered, requestId, replies, MAX_LOGGED_REQUESTS);
      await this.sendAll(replyTo, requestId, operation, replies, misbehave);
    } finally {
      this.inFlight.delete(requestId);
    }
  }

  private async sendAll(replyTo: string, requestId: string, operation: string, replies: Reply[], misbehave = false) {
    let order = replies;
    const streamed = replies.length > 1 || replies[0]?.sequence !== undefined;
    if (misbehave && this.switches.shuffleChunks) {
      order = [];
      for (let i = 0; i < replies.length; i += 2) {
        if (replies[i + 1]) order.push(replies[i + 1]!);
        order.push(replies[i]!);
      }
    }
    for (const reply of order) {
      if (this.stopped || this.cancelled.has(requestId)) return;
      const copies = misbehave && this.switches.duplicateReplies ? 2 : 1;
      const varied = misbehave && this.switches.variance;
      const fault = misbehave ? this.switches.chunkFault : null;
      if (fault && reply.status === 'chunk' && reply.sequence === fault.sequence) {
        if (fault.mode === 'garble')
          await this.replies.send(replyTo, { key: requestId, value: '{"request_id": garbled' });
        continue;
      }
      for (let i = 0; i < copies; i += 1) await this.sendReply(replyTo, requestId, operation, reply, varied);
      if (streamed) await sleep(this.switches.tokenDelayMs);
    }
    // Audit events for changes only, like the real service.
    if (!this.options.topics.events || replies[0]?.status === 'error' || operation.startsWith('chat_get_')) return;
    await this.producer!.send({
      topic: this.options.topics.events,
      messages: [
        {
          key: requestId,
          value: JSON.stringify({
            event_id: randomUUID(),
            event_type: operation,
            timestamp: new Date().toISOString(),
            request_id: requestId,
          }),
        },
      ],
    });
  }

  private async sendReply(replyTo: string, requestId: string, operation: string, reply: Reply, varied = false) {
    let body: Record<string, unknown> = {
      message_id: randomUUID(),
      request_id: requestId,
      operation: `${operation}_response`,
      timestamp: new Date().toISOString(),
      status: reply.status,
      payload: reply.payload,
      error: reply.error,
    };
    if (reply.sequence !== undefined) body.sequence = reply.sequence;
    if (varied) body = varyEnvelope({ ...body, payload: varyPayload(body.payload) });
    await this.replies.send(replyTo, {
      key: requestId,
      value: JSON.stringify(body),
      headers: { request_id: requestId },
    });
  }
}
