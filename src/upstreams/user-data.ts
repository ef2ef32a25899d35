import type { MeResponse } from '../auth/types';

/** `\uXXXX` for everything outside printable ASCII: Node refuses non-ASCII header values. */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * The `X-User-Data` header billing reads (billing-service.md): the access token and the user's
 * /me data. Built by the gateway only, after it verified the token.
 */
export function userDataHeader(token: string, me: Pick<MeResponse, 'email' | 'full_name' | 'orgs' | 'active_org_id'>) {
  return asciiJson({
    jwt_token: token,
    user_data: {
      email: me.email,
      full_name: me.full_name,
      orgs: me.orgs.map((o) => ({ org_id: o.org_id, name: o.name, role: o.role })),
      active_org_id: me.active_org_id,
    },
  });
}
