import { readUpstreamReply, refuseReply, type ReadResult } from '../upstreams/replies';
import { chatErrorToHttp } from './errors';
import { CHAT_OPERATIONS, type ChatOperation } from './operations';
import type { ReplyOutcome } from './pending';
import { StreamChunkPayload, StreamDonePayload, type ReplyEnvelope } from './schemas';

const STATUSES = new Set(['success', 'error', 'chunk']);
const SEQUENCE = /^\d{1,9}$/;

/**
 * The reply envelope as the gateway needs it: a request id and a status to route by. Everything
 * else is optional and may be null; a digit-string sequence is a number; unknown fields are ignored.
 * Undefined when the envelope cannot be routed (counted as malformed).
 */
export function readReplyEnvelope(raw: unknown): ReplyEnvelope | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const r = raw as Record<string, unknown>;
  const requestId = typeof r.request_id === 'number' ? String(r.request_id) : r.request_id;
  if (typeof requestId !== 'string' || !requestId) return undefined;
  if (typeof r.status !== 'string' || !STATUSES.has(r.status)) return undefined;
  let sequence: number | undefined;
  if (typeof r.sequence === 'number' && Number.isSafeInteger(r.sequence) && r.sequence >= 0) sequence = r.sequence;
  else if (typeof r.sequence === 'string' && SEQUENCE.test(r.sequence)) sequence = Number(r.sequence);
  else if (r.sequence !== undefined && r.sequence !== null) return undefined;
  return {
    request_id: requestId,
    status: r.status as ReplyEnvelope['status'],
    ...(sequence === undefined ? {} : { sequence }),
    payload: r.payload,
    error: (r.error ?? null) as ReplyEnvelope['error'],
  };
}

/** A success payload of `operation`, read liberally (src/upstreams/replies.ts). */
export const readChatPayload = (operation: ChatOperation, payload: unknown): ReadResult =>
  readUpstreamReply(CHAT_OPERATIONS[operation].reply, payload);

/** What a single (non-stream) reply means for its caller: the value, or the HttpError to answer. */
export function replyOutcome(operation: ChatOperation, reply: ReplyEnvelope): ReplyOutcome {
  if (reply.status !== 'success') return { ok: false, error: chatErrorToHttp(reply.error) };
  const read = readChatPayload(operation, reply.payload);
  if (read.ok) return { ok: true, value: read.value };
  const { path, message } = read;
  return {
    ok: false,
    error: refuseReply({ upstream: 'chat', operation, path, message, upstreamRequestId: reply.request_id }),
  };
}

export const readStreamChunk = (payload: unknown): ReadResult => readUpstreamReply(StreamChunkPayload, payload);
export const readStreamDone = (payload: unknown): ReadResult => readUpstreamReply(StreamDonePayload, payload);
