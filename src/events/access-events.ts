import type { Message } from 'kafkajs';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Config } from '../config';
import { groupByTopic } from '../kafka/batching-producer';
import { Fifo } from '../lib/fifo';
import { msUntilNextReturn, returnFreedMemory } from '../lib/freed-memory';
import { sleep, within } from '../lib/wait';
import type { Logger } from '../logger';
import { accessMessage, type AccessEventFields } from './access-message';
import type { AccessEventType, EventData } from './catalog';
import { isRecordRejected, type RelayProducer } from './relay';
import { connectedProducer, discardProducer, eventProducer } from './relay/producer';

/** One event waiting for Kafka: a single object per event (50,000 of them while Kafka is away). */
interface Queued extends AccessEventFields {
  /** When it was published (ms since the epoch): its `occurred_at` and the time part of its id. */
  at: number;
  /** The Kafka message, built by the sender the first time the event goes out. */
  built: { topic: string; message: Message } | undefined;
}

export type AccessDropReason = 'buffer_full' | 'rejected' | 'invalid' | 'shutdown';

export interface AccessEventPublisherOptions {
  config: Pick<
    Config,
    | 'KAFKA_BOOTSTRAP_SERVERS'
    | 'KAFKA_CLIENT_ID'
    | 'KAFKA_AUTH_EVENTS_TOPIC'
    | 'KAFKA_USER_EVENTS_TOPIC'
    | 'KAFKA_ORGANIZATION_EVENTS_TOPIC'
    | 'ACCESS_EVENTS_BUFFER'
    | 'ACCESS_EVENTS_LINGER_MS'
    | 'ACCESS_EVENTS_RETURN_MEMORY_AFTER'
  >;
  logger: Logger;
  /** How long `close()` keeps sending what is buffered. Default 5000. */
  drainTimeoutMs?: number;
  /** Messages per produce request. Default 500. */
  maxBatch?: number;
  /** Returns freed memory after a backlog, answering its pause in ms (src/lib/freed-memory.ts). */
  returnMemory?: () => number | undefined;
  /** Makes the Kafka producer; kafkajs' by default (unit tests pass a fake). */
  producer?: () => RelayProducer;
}

const MIN_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 5_000;

/**
 * Access events (events.md, Delivery): handed to one batching, idempotent Kafka producer per
 * process, never awaited by the request. `publish()` only appends the event's fields and a timestamp
 * to a bounded in-memory buffer; a single sender builds the envelopes (validated as every event is)
 * and drains the buffer one produce request at a time (acks=all,
 * one request in flight, a failed batch goes back to the front), so events of one key keep their
 * order within the process. While Kafka is unreachable the buffer holds events and the sender
 * retries with backoff; when it is full the oldest are dropped and counted. `close()` flushes
 * within the drain time and counts what it could not send.
 */
export class AccessEventPublisher {
  private readonly log: Logger;
  private readonly capacity: number;
  private readonly lingerMs: number;
  private readonly maxBatch: number;
  private readonly drainTimeoutMs: number;
  /** Queued events, oldest first (a Fifo lets go of each as soon as it is taken). */
  private readonly items = new Fifo<Queued>();
  private inFlight: Queued[] = [];
  /** The oldest in-flight events a full buffer has given up on: dropped if their request fails. */
  private doomed = 0;
  private producer: RelayProducer | null = null;
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private failures = 0;
  private closed = false;
  /** Events held when Kafka came back after failures, and how many of them are still to be sent. */
  private backlog = 0;
  private backlogLeft = 0;
  /** The memory return a sent backlog waits for (at most one a minute; later backlogs join it). */
  private memoryReturn: NodeJS.Timeout | undefined;
  private readonly metrics: { sent: Counter; dropped: Counter<'reason'>; buffered: Gauge; memoryReturns: Counter };

  constructor(private readonly options: AccessEventPublisherOptions) {
    this.log = options.logger.child({ component: 'access-events' });
    this.capacity = options.config.ACCESS_EVENTS_BUFFER;
    this.lingerMs = options.config.ACCESS_EVENTS_LINGER_MS;
    this.maxBatch = Math.max(1, Math.min(options.maxBatch ?? 500, this.capacity));
    this.drainTimeoutMs = options.drainTimeoutMs ?? 5_000;
    const size = () => this.pending;
    this.metrics = {
      sent: new Counter({
        name: 'gateway_access_events_sent_total',
        help: 'Access events (token_validated, user_info_requested, …) acknowledged by Kafka',
        registers: [],
      }),
      dropped: new Counter({
        name: 'gateway_access_events_dropped_total',
        help: 'Access events lost: buffer_full (oldest dropped), rejected (by Kafka), invalid, shutdown (not sent within the drain time)',
        labelNames: ['reason'],
        registers: [],
      }),
      buffered: new Gauge({
        name: 'gateway_access_events_buffered',
        help: 'Access events waiting in this process for Kafka (bounded by ACCESS_EVENTS_BUFFER)',
        registers: [],
        collect() {
          this.set(size());
        },
      }),
      memoryReturns: new Counter({
        name: 'gateway_memory_returns_total',
        help: 'Memory-reducing garbage collections run once a backlog of access events was sent (ACCESS_EVENTS_RETURN_MEMORY_AFTER)',
        registers: [],
      }),
    };
  }

  registerMetrics(registry: Registry): void {
    for (const metric of Object.values(this.metrics)) {
      const name = (metric as unknown as { name: string }).name;
      if (!registry.getSingleMetric(name)) registry.registerMetric(metric);
    }
  }

  /** Events held: queued, or in flight and not yet given up. */
  get pending(): number {
    return this.items.size + this.inFlight.length - this.doomed;
  }

  /** Queues one access event; never waits and never throws. */
  publish<T extends AccessEventType>(
    eventType: T,
    data: EventData[T],
    requestId: string,
    userId: string | null,
    ip: string | null,
  ): void {
    if (this.closed) {
      this.drop('shutdown', 1);
      return;
    }
    if (this.pending >= this.capacity) {
      // The oldest goes: first the in-flight batch's (lost only if its request fails), then the queue's.
      if (this.doomed < this.inFlight.length) this.doomed += 1;
      else {
        this.items.shift();
        this.drop('buffer_full', 1);
      }
    }
    this.items.push({ eventType, data, requestId, userId, ip, at: Date.now(), built: undefined });
    this.schedule(this.lingerMs);
  }

  /** The event's Kafka message, built once; null (counted and logged) for an event that may not be sent. */
  private built(queued: Queued): Queued['built'] | null {
    if (queued.built) return queued.built;
    try {
      // Its id's time part and occurred_at are when it was published.
      return (queued.built = accessMessage(this.options.config, queued, queued.at));
    } catch (err) {
      this.drop('invalid', 1);
      this.log.error({ err, event_type: queued.eventType }, 'access event not published: invalid');
      return null;
    }
  }

  /** Sends what is buffered for up to the drain time, then disconnects; the rest is counted as dropped. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    clearTimeout(this.memoryReturn);
    const deadline = Date.now() + this.drainTimeoutMs;
    while (Date.now() < deadline) {
      await this.sending;
      if (this.pending === 0) break;
      this.sending = this.sendOnce();
      await within(this.sending, deadline - Date.now());
      if (this.failures > 0) await sleep(Math.min(MIN_BACKOFF_MS, Math.max(0, deadline - Date.now())));
    }
    const left = this.pending;
    if (left > 0) {
      this.drop('shutdown', left);
      this.log.warn({ dropped: left }, 'access events not sent before shutdown');
    }
    const producer = this.producer;
    this.producer = null;
    await discardProducer(producer);
  }

  private drop(reason: AccessDropReason, n: number): void {
    this.metrics.dropped.inc({ reason }, n);
  }

  private schedule(delay: number): void {
    if (this.timer || this.sending || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sending = this.drainLoop().finally(() => {
        this.sending = undefined;
        // Events that arrived during the last request wait for company again.
        if (this.pending > 0) this.schedule(this.failures > 0 ? this.backoff() : this.lingerMs);
      });
    }, delay);
  }

  /** Sends full batches back to back; stops after a partial batch or a failure. */
  private async drainLoop(): Promise<void> {
    for (;;) {
      const full = this.items.size >= this.maxBatch;
      await this.sendOnce();
      if (this.failures > 0 || !full || this.closed) return;
    }
  }

  private async sendOnce(): Promise<void> {
    if (this.items.size === 0) return;
    this.inFlight = this.items.take(this.maxBatch).filter((q) => this.built(q) !== null);
    if (this.inFlight.length === 0) return;
    try {
      const producer = await this.producerReady();
      const messages = groupByTopic(this.inFlight.map((q) => q.built!));
      await producer.sendBatch({ topicMessages: messages, acks: -1, timeout: 10_000 });
      this.metrics.sent.inc(this.inFlight.length);
      this.doomed = 0;
      if (this.failures > 0) {
        this.log.info({ after_attempts: this.failures, buffered: this.pending }, 'access events reach Kafka again');
        this.backlog = Math.max(this.backlog, this.pending);
        this.backlogLeft = this.pending;
      }
      this.failures = 0;
      // Counted down by what is sent: under load the buffer is seldom empty after a send.
      if (this.backlogLeft > 0 && (this.backlogLeft -= this.inFlight.length) <= 0) this.backlogSent();
    } catch (err) {
      this.onFailure(err);
    } finally {
      this.inFlight = [];
      this.doomed = 0;
    }
  }

  /**
   * Once a large backlog is sent: its events are garbage, but V8 keeps the pages they took until a
   * memory-reducing collection, which it would not start in a busy process (docs/adr/0016).
   */
  private backlogSent(): void {
    const events = this.backlog;
    this.backlog = 0;
    const threshold = this.options.config.ACCESS_EVENTS_RETURN_MEMORY_AFTER;
    if (threshold === 0 || events < threshold || this.closed || this.memoryReturn) return;
    this.returnMemoryLater(events);
  }

  /** After this task, when the sent batches are garbage, and not twice within a minute. */
  private returnMemoryLater(events: number): void {
    this.memoryReturn = setTimeout(() => {
      this.memoryReturn = undefined;
      if (msUntilNextReturn() > 0) return this.returnMemoryLater(events); // a timer may fire 1 ms early
      const before = process.memoryUsage.rss();
      const pauseMs = (this.options.returnMemory ?? returnFreedMemory)();
      if (pauseMs === undefined) return;
      this.metrics.memoryReturns.inc();
      const mb = (bytes: number) => Math.round(bytes / 1048576);
      this.log.info(
        {
          backlog: events,
          pause_ms: Math.round(pauseMs),
          rss_mb_before: mb(before),
          rss_mb_after: mb(process.memoryUsage.rss()),
        },
        'access-event backlog sent; freed memory returned to the system',
      );
    }, Math.ceil(msUntilNextReturn())).unref();
  }

  private onFailure(err: unknown): void {
    const rejected = isRecordRejected(err);
    if (rejected) {
      // Retrying the same records cannot help; they are counted and let go so the rest can flow.
      this.drop('rejected', this.inFlight.length);
      this.log.error({ err: String(err), events: this.inFlight.length }, 'Kafka rejected access events');
      return;
    }
    this.failures += 1;
    if (this.failures === 1) this.log.warn({ err: String(err) }, 'access events cannot reach Kafka; buffering');
    // Back to the front, in order, but for those a full buffer gave up on meanwhile.
    if (this.doomed > 0) this.drop('buffer_full', this.doomed);
    this.items.putBack(this.inFlight.slice(this.doomed));
    const producer = this.producer;
    this.producer = null;
    if (producer)
      void within(
        producer.disconnect().catch(() => undefined),
        2_000,
      );
  }

  private backoff(): number {
    const base = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** Math.min(this.failures - 1, 10));
    return Math.round(base / 2 + Math.random() * (base / 2));
  }

  private async producerReady(): Promise<RelayProducer> {
    this.producer ??= await connectedProducer(() => this.kafkaProducer());
    return this.producer;
  }

  private kafkaProducer(): RelayProducer {
    const { config } = this.options;
    if (this.options.producer) return this.options.producer();
    return eventProducer(config.KAFKA_BOOTSTRAP_SERVERS, `${config.KAFKA_CLIENT_ID}-access`, this.log);
  }
}
