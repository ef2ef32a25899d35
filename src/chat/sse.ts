import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';

export const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  // nginx and friends would otherwise buffer the stream
  'x-accel-buffering': 'no',
} as const;

export const SSE_KEEP_ALIVE_MS = 15_000;
export const SSE_KEEP_ALIVE_FRAME = ': keep-alive\n\n';

/** `event: <name>\ndata: <one-line JSON>\n\n` (JSON.stringify never emits a raw newline). */
export function sseFrame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export interface SseEvent {
  event: string;
  data: unknown;
}

export interface SseOptions {
  keepAliveMs?: number;
  /** A write the client has not taken within this long ends the response (then `onClientGone`). */
  writeTimeoutMs?: number;
  /** The client went away before the stream ended. */
  onClientGone(): void;
}

/** Resolves once `event` fires on `res` or it closes; after `timeoutMs` destroys it (a client that stopped reading). */
function settled(res: ServerResponse, event: 'drain' | 'finish', timeoutMs: number | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => res.destroy(), timeoutMs);
    const done = () => {
      clearTimeout(timer);
      res.off(event, done);
      res.off('close', done);
      resolve();
    };
    res.on(event, done);
    res.on('close', done);
  });
}

/**
 * Answers with an event stream: headers go out at once (the first byte does not wait for the
 * upstream), then one frame per event, a comment every `keepAliveMs` so idle proxies keep the
 * connection, and backpressure from a slow client is respected. Ends when `events` ends.
 */
export async function sendSse(
  reply: FastifyReply,
  events: AsyncIterable<SseEvent>,
  options: SseOptions,
): Promise<void> {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { ...(reply.getHeaders() as OutgoingHttpHeaders), ...SSE_HEADERS });
  res.flushHeaders();

  let gone = false;
  const onClose = () => {
    if (res.writableFinished) return;
    gone = true;
    options.onClientGone();
  };
  res.on('close', onClose);
  const keepAlive = setInterval(() => {
    if (!gone) res.write(SSE_KEEP_ALIVE_FRAME);
  }, options.keepAliveMs ?? SSE_KEEP_ALIVE_MS);
  try {
    for await (const { event, data } of events) {
      if (gone) break;
      if (!res.write(sseFrame(event, data))) await settled(res, 'drain', options.writeTimeoutMs);
    }
  } finally {
    clearInterval(keepAlive);
    if (!gone && !res.writableEnded) {
      res.end();
      // The last frames may still wait for a client that stopped reading: bounded too.
      if (!res.writableFinished) void settled(res, 'finish', options.writeTimeoutMs);
    }
    res.off('close', onClose);
  }
}
