/**
 * The chat fake's `variance` switch: replies an independent chat service may legally send
 * (gateway-http.md, "What the gateway accepts from upstreams"). Every field the gateway does not
 * route by is `null`, per-user ids are digit strings, and every object carries unknown fields.
 */

/** Fields the gateway routes by: per-user ids (chat-kafka.md, Identifiers) and stream event names. */
const ROUTED_IDS = new Set([
  'conversation_id',
  'message_id',
  'prompt_id',
  'document_id',
  'conversation',
  'userMessageId',
  'messageId',
  'conversationId',
]);
const KEPT = new Set(['event', 'data', 'items']);

function vary(value: unknown, key: string | undefined): unknown {
  if (Array.isArray(value))
    return value.map((item) => vary(item, key === 'conversation_ids' ? 'conversation_id' : key));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = vary(v, k);
    out.x_unknown_field = { nested: [1, 'two', null] };
    out.schema_version = '99';
    return out;
  }
  if (key !== undefined && ROUTED_IDS.has(key)) return typeof value === 'number' ? String(value) : value;
  if (key !== undefined && (KEPT.has(key) || key === 'conversation_ids')) return value;
  return key === undefined ? value : null;
}

/** A reply payload as a tolerant-but-legal chat service might send it. */
export function varyPayload(payload: unknown): unknown {
  return vary(payload, undefined);
}

/** The reply envelope with optional fields null, the sequence as a digit string and extra fields. */
export function varyEnvelope(body: Record<string, unknown>): Record<string, unknown> {
  return {
    ...body,
    message_id: null,
    operation: null,
    timestamp: null,
    ...(typeof body.sequence === 'number' ? { sequence: String(body.sequence) } : {}),
    error: body.error ?? null,
    trace: { span: 'x' },
  };
}
