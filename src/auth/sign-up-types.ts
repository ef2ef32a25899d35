/** Types shared by the sign-up route, workflow and activities (no runtime code: the workflow imports it). */

export interface SignUpInput {
  email: string;
  password: string;
  full_name: string;
  requestId: string;
  ip: string | null;
}

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

export interface SignUpAnswer {
  tokens: UpstreamTokens;
  user: SignedUpUser;
}
