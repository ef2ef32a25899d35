import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { EachMessagePayload, ISocketFactory } from 'kafkajs';
import { Registry } from 'prom-client';
import { BatchingProducer } from '../kafka/batching-producer';
import type { UserContext } from '../auth/types';
import type { Config } from '../config';
import { HttpError } from '../errors';
import type { Logger } from '../logger';
import { ChatConnection } from './connection';
import { DropLog, type DropReason } from './drop-log';
import { chatUnavailable } from './errors';
import { createChatMetrics, registerChatMetrics, type ChatMetrics } from './metrics';
import { topicOf, type ChatOperation, type PayloadOf, type ReplyOf } from './operations';
import { neverSent, PendingCalls, wasNeverSent } from './pending';
import { readReplyEnvelope, replyOutcome } from './replies';
import type { ReplyEnvelope, RequestMetadata } from './schemas';
import { ChatStream } from './stream';
import { randomUuid } from '../lib/uuid';

/**
 * Consumer tuning for latency. The reply topic is low-volume, so a fetch should return as soon as
 * one byte is there and never sit on an empty partition for long (kafkajs' default wait is 5 s;
 * see the README, Design decisions, for the measurement).
 */
export const REPLY_CONSUMER_TUNING = { maxWaitTimeInMs: 100, minBytes: 1 } as const;

/**
 * How long a new call waits for a Kafka link that is down (starting, rejoining) before it answers
 * 503: long enough for a rebalance, short enough that clients hear "unavailable" at once.
 */
export const LINK_WAIT_MS = 1_000;

export interface ChatCallOptions {
  /** Who asks (every operation except chat_get_settings needs one). */
  userContext?: UserContext | null;
  requestMetadata?: RequestMetadata;
  /** The same on every retry of one logical request (activities pass a deterministic id). */
  requestId?: string;
  /** Deadline of this call; defaults to CHAT_REQUEST_TIMEOUT_MS (CHAT_GEN_TITLE_TIMEOUT_MS for titles). */
  timeoutMs?: number;
}

export interface ChatStreamOptions extends ChatCallOptions {
  idleTimeoutMs?: number;
}

export interface ChatRequestReplyOptions {
  config: Config;
  logger: Logger;
  /** Metrics go here (the API passes its /metrics registry). */
  registry?: Registry;
  /** Names the process kind in the consumer group id, e.g. `api` or `worker`. */
  role?: string;
  /** For measurements only. */
  consumerTuning?: { maxWaitTimeInMs: number; minBytes: number };
  /** Opens the Kafka sockets (fault tests inject network faults here); kafkajs' own by default. */
  socketFactory?: ISocketFactory;
  /** See ChatConnectionOptions.recoverAfterMs (tests shorten it). */
  recoverAfterMs?: number;
}

/**
 * The one Kafka request/reply client of the chat protocol, used by the routes and by the
 * activities. Every instance consumes the whole reply topic with its own consumer group from the
 * latest offset and acts only on the request ids it has pending, so any number of gateway
 * replicas and workers can run at once; replies for other instances are ignored.
 */
export class ChatRequestReply {
  readonly instanceId: string;
  private readonly config: Config;
  private readonly log: Logger;
  private readonly connection: ChatConnection;
  /** Concurrent requests share produce requests (see BatchingProducer). */
  private readonly requests: BatchingProducer;
  private readonly pending: PendingCalls;
  private readonly streams = new Map<string, ChatStream>();
  private readonly dropLog: DropLog;
  private closing = false;
  private readonly metrics: ChatMetrics;

  constructor(options: ChatRequestReplyOptions) {
    this.config = options.config;
    const role = options.role ?? 'api';
    this.instanceId = `${options.config.KAFKA_CLIENT_ID}-chat-${role}-${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
    this.log = options.logger.child({ component: 'chat-request-reply' });
    this.dropLog = new DropLog(this.log);
    this.metrics = createChatMetrics(options.registry ?? new Registry());
    this.pending = new PendingCalls(this.metrics);
    this.connection = new ChatConnection({
      config: options.config,
      logger: this.log,
      instanceId: this.instanceId,
      tuning: options.consumerTuning ?? REPLY_CONSUMER_TUNING,
      onMessage: (payload) => this.onMessage(payload),
      socketFactory: options.socketFactory,
      recoverAfterMs: options.recoverAfterMs,
    });
    this.requests = new BatchingProducer(() => this.connection.currentProducer, { acks: -1 });
  }

  /** Registers this client's metrics in another registry (the API's /metrics). */
  registerMetrics(registry: Registry): void {
    registerChatMetrics(this.metrics, registry);
  }

  /** Whether calls can be sent and answered now (reply consumer in its group and fetching, producer sending). */
  get isReady(): boolean {
    return this.connection.link.available && !this.closing;
  }

  /** Why calls cannot be sent now (for /health/ready); undefined when they can. */
  get problem(): string | undefined {
    return this.closing ? 'the gateway is shutting down' : this.connection.link.problem;
  }

  /** Connects in the background (retrying while Kafka is away, and again after every outage). */
  start(): void {
    this.connection.start();
  }

  /** Resolves once calls can be sent and answered, or rejects with 503 + Retry-After after `timeoutMs`. */
  async whenReady(timeoutMs = this.config.CHAT_REQUEST_TIMEOUT_MS, failFast = false): Promise<void> {
    this.start();
    if (this.closing) throw chatUnavailable('The gateway is shutting down');
    const ok = await this.connection.link.waitUntilAvailable(timeoutMs, failFast);
    if (this.closing) throw chatUnavailable('The gateway is shutting down');
    if (!ok) throw chatUnavailable('The chat service cannot be reached right now');
  }

  /**
   * Before a call: waits up to LINK_WAIT_MS for a link that is (re)joining, but answers 503 at once
   * while Kafka is known down (a failed send, a refused connection), until the consumer fetches again.
   */
  readyForCall(deadline = Date.now() + LINK_WAIT_MS): Promise<void> {
    return this.whenReady(Math.min(LINK_WAIT_MS, Math.max(0, deadline - Date.now())), true);
  }

  /** One request, one reply. Rejects with an HttpError (chat error mapped, 503 unsent, 504 no reply in time). */
  request<O extends ChatOperation>(
    operation: O,
    payload: PayloadOf<O>,
    options: ChatCallOptions = {},
  ): Promise<ReplyOf<O>> {
    const requestId = options.requestId ?? randomUuid();
    const timeoutMs = options.timeoutMs ?? this.defaultTimeout(operation);
    const deadline = Date.now() + timeoutMs;
    if (this.closing) return Promise.reject(chatUnavailable('The gateway is shutting down'));

    const sent = this.send(operation, payload, requestId, deadline, options).catch((err: unknown) => {
      throw err instanceof HttpError ? err : chatUnavailable();
    });
    return this.pending.wait(requestId, operation, timeoutMs, sent) as Promise<ReplyOf<O>>;
  }

  /**
   * Starts a streamed operation (chat_ai_conversation). The returned stream yields events in
   * sequence order; `cancel()` on it (client gone) or an idle timeout tells the chat service
   * with `chat_cancel`.
   */
  stream<O extends ChatOperation>(operation: O, payload: PayloadOf<O>, options: ChatStreamOptions = {}): ChatStream {
    const requestId = options.requestId ?? randomUuid();
    const started = Date.now();
    let notSent = false;
    const stream: ChatStream = new ChatStream(requestId, {
      idleTimeoutMs: options.idleTimeoutMs ?? this.config.CHAT_STREAM_IDLE_TIMEOUT_MS,
      stallTimeoutMs: this.config.CHAT_STREAM_STALL_TIMEOUT_MS,
      gapTimeoutMs: this.config.CHAT_STREAM_GAP_TIMEOUT_MS,
      reorderMax: this.config.CHAT_STREAM_REORDER_MAX,
      onEnd: (reason) => {
        if (this.streams.get(requestId) === stream) this.streams.delete(requestId);
        this.metrics.pending.dec();
        if (!notSent) {
          this.pending.remember(
            requestId,
            reason === 'completed' ? 'answered' : reason === 'failed' ? 'failed' : 'cancelled',
          );
        }
        this.metrics.requests.inc({ operation, outcome: reason === 'completed' ? 'success' : reason });
        this.metrics.duration.observe({ operation }, (Date.now() - started) / 1000);
        if (reason === 'gap')
          this.log.warn({ request_id: requestId, operation }, 'chat stream ended at a sequence gap');
        // The answer is no longer delivered: the chat service may stop generating it.
        if ((reason === 'cancelled' || reason === 'idle' || reason === 'gap') && !this.closing) {
          this.publish('chat_cancel', { cancel_request_id: requestId }, { ...options, requestId: undefined }).catch(
            (err: unknown) => this.log.warn({ request_id: requestId, err: String(err) }, 'chat_cancel not sent'),
          );
        }
      },
    });
    if (this.closing) {
      this.metrics.pending.inc();
      stream.fail('The gateway is shutting down');
      return stream;
    }
    this.streams.set(requestId, stream);
    this.metrics.pending.inc();
    const deadline = Date.now() + (options.timeoutMs ?? this.config.CHAT_STREAM_IDLE_TIMEOUT_MS);
    this.send(operation, payload, requestId, deadline, options).catch((err: unknown) => {
      notSent = wasNeverSent(err);
      stream.fail(err instanceof HttpError ? err.detail : 'The chat service is unavailable');
    });
    return stream;
  }

  /** Sends without waiting for a reply (chat_cancel). */
  async publish<O extends ChatOperation>(operation: O, payload: PayloadOf<O>, options: ChatCallOptions = {}) {
    const timeoutMs = options.timeoutMs ?? this.config.CHAT_REQUEST_TIMEOUT_MS;
    await this.send(operation, payload, options.requestId ?? randomUuid(), Date.now() + timeoutMs, options);
  }

  /** Fails every pending call with 503 and ends every stream, then disconnects. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const shuttingDown = chatUnavailable('The gateway is shutting down');
    this.pending.failAll(shuttingDown);
    for (const stream of [...this.streams.values()]) stream.fail(shuttingDown.detail);
    await this.connection.close();
  }

  private defaultTimeout(operation: ChatOperation): number {
    return operation === 'chat_generate_title'
      ? this.config.CHAT_GEN_TITLE_TIMEOUT_MS
      : this.config.CHAT_REQUEST_TIMEOUT_MS;
  }

  private async send(
    operation: ChatOperation,
    payload: object,
    requestId: string,
    deadline: number,
    options: ChatCallOptions,
  ): Promise<void> {
    // A link that is down answers 503 within LINK_WAIT_MS; calls already sent keep their deadline.
    await this.readyForCall(deadline).catch((err: unknown) => {
      throw neverSent(err instanceof HttpError ? err : chatUnavailable());
    });
    const replyTo = this.config.CHAT_SERVICE_RESPONSES_TOPIC;
    const body: Record<string, unknown> = { ...payload };
    if (options.userContext) body.user_context = options.userContext;
    if (options.requestMetadata) body.request_metadata = options.requestMetadata;
    const envelope = {
      message_id: randomUuid(),
      request_id: requestId,
      operation,
      timestamp: new Date().toISOString(),
      reply_to: replyTo,
      deadline: new Date(deadline).toISOString(),
      payload: body,
    };
    // A cancel travels on the partition of the request it stops, so it can never overtake it.
    const key = operation === 'chat_cancel' ? (payload as PayloadOf<'chat_cancel'>).cancel_request_id : requestId;
    try {
      await this.requests.send(topicOf(this.config, operation), {
        key,
        value: JSON.stringify(envelope),
        headers: { request_id: requestId, operation, reply_to: replyTo },
      });
    } catch (err) {
      const type = (err as { type?: string }).type;
      if (type === 'MESSAGE_TOO_LARGE' || /too large/i.test(String(err))) {
        throw neverSent(new HttpError('payload_too_large', 'The request is too large for the chat service'));
      }
      this.connection.link.sendFailed();
      this.log.warn({ request_id: requestId, operation, err: String(err) }, 'chat request not sent');
      throw chatUnavailable();
    }
  }

  private onMessage({ partition, message }: EachMessagePayload): Promise<void> {
    this.connection.consumed(partition, message.offset);
    const key = message.key?.toString();
    let reply: unknown;
    try {
      reply = JSON.parse(message.value?.toString() ?? '');
    } catch {
      this.drop('malformed', key, { partition, offset: message.offset });
      return Promise.resolve();
    }
    const envelope = readReplyEnvelope(reply);
    if (!envelope) {
      const id = (reply as { request_id?: unknown } | null)?.request_id;
      this.drop('malformed', typeof id === 'string' ? id : key, { partition, offset: message.offset });
      return Promise.resolve();
    }
    this.route(envelope);
    return Promise.resolve();
  }

  private route(reply: ReplyEnvelope) {
    const requestId = reply.request_id;
    const stream = this.streams.get(requestId);
    if (stream) {
      if (!stream.accept(reply)) this.drop('duplicate', requestId);
      return;
    }
    const operation = this.pending.operationOf(requestId);
    if (!operation) {
      const seen = this.pending.endedAs(requestId);
      if (seen === undefined) this.drop('unknown', requestId);
      else this.drop(seen === 'answered' ? 'duplicate' : 'late', requestId);
      return;
    }
    if (reply.status === 'chunk') {
      this.drop('malformed', requestId);
      return;
    }
    this.pending.settle(requestId, replyOutcome(operation, reply), 'answered');
  }

  /** Counted always; logged once per request id (DropLog). */
  private drop(reason: DropReason, requestId: string | undefined, where: Record<string, unknown> = {}) {
    this.metrics.dropped.inc({ reason });
    this.dropLog.record(reason, requestId, where);
  }
}
