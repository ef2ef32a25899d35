/** Types and constants shared by the sign-up route, workflow and activities (no I/O: the workflow imports it). */

export interface SignUpInput {
  email: string;
  /** Sealed with TEMPORAL_SECRETS_KEYS (plaintext only in runs started before sealing). */
  password: string;
  full_name: string;
  requestId: string;
  ip: string | null;
  /** The credential proof (keyed HMAC of e-mail + password) a joining sign-up must match. */
  credential?: string;
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
  /** Sealed JSON of UpstreamTokens (an object only in runs started before sealing). */
  tokens: string | UpstreamTokens;
  user: SignedUpUser;
}

/** ApplicationFailure type of a sign-up that may not join the run (another password), or a registered e-mail. */
export const SIGN_UP_CONFLICT = 'SignUpConflict';
