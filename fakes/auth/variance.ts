/**
 * The auth fake's `variance` option: the replies the gateway maps, as an independent auth service
 * may legally send them (gateway-http.md, "What the gateway accepts from upstreams"): `null` in
 * every field but the ids the gateway acts on, and unknown fields in every object.
 */
const IDS = new Set(['sub', 'org_id', 'user_id']);
const MAPPED = [/^\/v1\/client\/me$/, /^\/v1\/client\/update$/, /^\/v1\/org$/, /^\/(v1|auth)\/org\/[^/]+\/members$/];

function vary(value: unknown, key: string | undefined): unknown {
  if (Array.isArray(value)) return value.map((item) => vary(item, undefined));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = vary(v, k);
    out.x_unknown_field = { nested: [1, 'two', null] };
    out.created_timestamp = 1_700_000_000_000;
    return out;
  }
  if (key === undefined || IDS.has(key)) return value;
  return null;
}

/** The varied JSON body for a mapped path, else the payload unchanged. */
export function varyAuthReply(path: string, status: number, payload: unknown): unknown {
  if (status >= 300 || typeof payload !== 'string' || !MAPPED.some((p) => p.test(path))) return payload;
  try {
    return JSON.stringify(vary(JSON.parse(payload), undefined));
  } catch {
    return payload;
  }
}
