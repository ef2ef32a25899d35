import type { SignedUpUser } from './sign-up-types';
import type { MeResponse } from './types';

/** The `user` of the token response (gateway-http.md) from the auth service's /v1/client/me. */
export function userFromMe(me: MeResponse): SignedUpUser {
  return {
    user_id: me.sub,
    email: me.email,
    full_name: me.full_name ?? null,
    orgs: me.orgs ?? [],
    active_org_id: me.active_org_id ?? null,
  };
}
