/** What the auth service answers a sign-up or sign-in with (no I/O: the sign-up workflow's contract imports it). */

export interface UpstreamTokens {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
  refresh_expires_in?: number;
}

export interface SignedUpUser {
  user_id: string;
  email: string;
  full_name: string | null;
  orgs: { org_id: string; name: string; role: string; is_owner: boolean }[];
  active_org_id: string | null;
}
