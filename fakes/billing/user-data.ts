/** How billing reads `X-User-Data` (billing-service.md): the JWT is decoded, never verified. */

export interface ReceivedUserData {
  raw: string;
  /** Only printable ASCII, as Node clients must send it. */
  ascii: boolean;
  jwt: string;
  sub: string;
  user_data: unknown;
}

export type UserDataResult = { ok: true; value: ReceivedUserData } | { ok: false; status: 400 | 401; detail: string };

const FAILED = { ok: false, status: 401, detail: 'Failed to process authentication data' } as const;

function decodeSub(jwt: string): string | undefined {
  const part = jwt.split('.')[1];
  if (!part) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as { sub?: unknown };
    return typeof claims.sub === 'string' && claims.sub ? claims.sub : undefined;
  } catch {
    return undefined;
  }
}

export function readUserData(header: string | string[] | undefined): UserDataResult {
  if (typeof header !== 'string' || header === '') {
    return { ok: false, status: 401, detail: 'Missing authentication data. Please provide X-User-Data header.' };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(header);
  } catch {
    return { ok: false, status: 400, detail: 'Invalid JSON in X-User-Data header' };
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return FAILED;
  const { jwt_token: jwt, user_data } = parsed as { jwt_token?: unknown; user_data?: unknown };
  if (typeof jwt !== 'string' || !jwt) return FAILED;
  const sub = decodeSub(jwt);
  if (!sub) return FAILED;
  return { ok: true, value: { raw: header, ascii: /^[\x20-\x7e]*$/.test(header), jwt, sub, user_data } };
}
