import { chatErrorToHttp } from './errors';
import { readStreamChunk, readStreamDone } from './replies';
import type { ReplyEnvelope } from './schemas';

export type ChatStreamEvent =
  | { event: 'userMessageId'; data: { userMessageId: number } }
  | { event: 'message'; data: { content: string } }
  | { event: 'done'; data: { messageId: number; conversationId: number; newDocId: number | null } }
  | { event: 'error'; data: { error: string } };

/**
 * Why a stream ended: the chat service finished, the client left, silence, a chunk that never
 * came (`gap`), or the gateway gave up.
 */
export type StreamEnd = 'completed' | 'cancelled' | 'idle' | 'gap' | 'failed';

export const GAP_MESSAGE = 'Part of the answer was lost on the way; reload the conversation to read it';

export interface ChatStreamOptions {
  idleTimeoutMs: number;
  /**
   * Longest silence once a reply has come (shorter than the idle timeout: a model that has
   * started answering sends tokens steadily, so silence then means the chat service went away).
   */
  stallTimeoutMs?: number;
  /** Longest wait for a missing sequence number while later chunks are held. */
  gapTimeoutMs?: number;
  /** Most chunks held past a missing sequence number. */
  reorderMax?: number;
  /** Called once when the stream ends, with the reason. */
  onEnd: (reason: StreamEnd) => void;
}

/**
 * One AI answer in flight. Replies arrive in any order and possibly twice; a reorder buffer
 * releases them strictly by `sequence` and drops what was already seen. Iterate it to receive
 * the events; iteration ends after `done` or `error`. A sequence number that does not come within
 * `gapTimeoutMs`, or `reorderMax` chunks held past it, ends the stream with an `error` event
 * (reason `gap`): skipping would show an answer with a silent hole in it.
 */
export class ChatStream implements AsyncIterable<ChatStreamEvent> {
  private nextSequence = 0;
  private readonly buffer = new Map<number, ReplyEnvelope>();
  /** A final reply without a sequence number: released once no earlier chunk is missing. */
  private unsequencedFinal?: ReplyEnvelope;
  private readonly queue: ChatStreamEvent[] = [];
  private wake?: () => void;
  private ended = false;
  private answering = false;
  private idleTimer?: NodeJS.Timeout;
  private gapTimer?: NodeJS.Timeout;

  constructor(
    readonly requestId: string,
    private readonly options: ChatStreamOptions,
  ) {
    this.armIdleTimer();
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Takes one reply; returns false when it was a duplicate (or came after the end). */
  accept(reply: ReplyEnvelope): boolean {
    if (this.ended) return false;
    this.answering = true;
    this.armIdleTimer();
    const seq = reply.sequence;
    if (seq === undefined) {
      if (reply.status === 'chunk' || this.unsequencedFinal) return false;
      this.unsequencedFinal = reply;
    } else {
      if (seq < this.nextSequence || this.buffer.has(seq)) return false;
      this.buffer.set(seq, reply);
    }
    this.release();
    if (this.buffer.size > (this.options.reorderMax ?? Number.POSITIVE_INFINITY)) this.gap();
    return true;
  }

  /** Ends the stream with an `error` event (e.g. the request could not be sent, shutdown). */
  fail(message: string, reason: StreamEnd = 'failed'): void {
    if (this.ended) return;
    this.push({ event: 'error', data: { error: message } });
    this.end(reason);
  }

  /** The client went away: end without an event. */
  cancel(): void {
    if (this.ended) return;
    this.queue.length = 0;
    this.end('cancelled');
  }

  private release() {
    while (!this.ended) {
      const reply = this.buffer.get(this.nextSequence);
      if (!reply) break;
      this.buffer.delete(this.nextSequence);
      this.nextSequence += 1;
      this.emit(reply);
    }
    if (!this.ended && this.unsequencedFinal && this.buffer.size === 0) this.emit(this.unsequencedFinal);
    this.armGapTimer();
  }

  /** Held chunks wait for `nextSequence`: bounded in time, from the moment the first was held. */
  private armGapTimer() {
    if (this.ended || this.buffer.size === 0) {
      clearTimeout(this.gapTimer);
      this.gapTimer = undefined;
      return;
    }
    if (this.gapTimer) return;
    const missing = this.nextSequence;
    this.gapTimer = setTimeout(() => {
      this.gapTimer = undefined;
      if (this.nextSequence === missing) this.gap();
      else this.armGapTimer();
    }, this.options.gapTimeoutMs ?? this.options.idleTimeoutMs);
    this.gapTimer.unref();
  }

  private gap() {
    this.fail(GAP_MESSAGE, 'gap');
  }

  private emit(reply: ReplyEnvelope) {
    if (reply.status === 'chunk') {
      // An unreadable chunk still takes its sequence number; it is skipped, not waited for.
      const chunk = readStreamChunk(reply.payload);
      if (chunk.ok) this.push(chunk.value as ChatStreamEvent);
      return;
    }
    if (reply.status === 'success') {
      const done = readStreamDone(reply.payload);
      if (done.ok) {
        this.push(done.value as ChatStreamEvent);
        this.end('completed');
      } else {
        this.fail('The chat service sent an unreadable answer');
      }
      return;
    }
    this.push({ event: 'error', data: { error: chatErrorToHttp(reply.error).detail } });
    this.end('completed');
  }

  private push(event: ChatStreamEvent) {
    this.queue.push(event);
    this.wake?.();
  }

  private end(reason: StreamEnd) {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.idleTimer);
    clearTimeout(this.gapTimer);
    this.buffer.clear();
    this.wake?.();
    this.options.onEnd(reason);
  }

  private armIdleTimer() {
    clearTimeout(this.idleTimer);
    const { idleTimeoutMs, stallTimeoutMs } = this.options;
    const timeoutMs = this.answering && stallTimeoutMs ? Math.min(stallTimeoutMs, idleTimeoutMs) : idleTimeoutMs;
    this.idleTimer = setTimeout(() => this.fail('The chat service stopped answering', 'idle'), timeoutMs);
    this.idleTimer.unref();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ChatStreamEvent> {
    for (;;) {
      const next = this.queue.shift();
      if (next) {
        yield next;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}
