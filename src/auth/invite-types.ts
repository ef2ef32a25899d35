/** Types shared by the invite routes, the org-invite workflow and its activities (no runtime code). */

export type InviteRole = 'admin' | 'member';
export type InviteStatus = 'pending' | 'accepted' | 'expired' | 'revoked';

export interface OrgInviteInput {
  orgId: string;
  email: string;
  role: InviteRole;
  invitedBy: string;
  /** The inviting owner's access token, for the upstream call; sealed (TEMPORAL_SECRETS_KEYS). */
  inviterToken: string;
  ttlMs: number;
  requestId: string;
  ip: string | null;
}

export interface IssuedInvite {
  invite_id: string;
  /** Sealed inside Temporal (plain in runs started before sealing); the route opens it for the answer. */
  invite_token: string;
  expires_at: string;
}

export interface AcceptInviteInput {
  userId: string;
  emailHash: string;
  /** The accepting user's access token, for the upstream call; sealed (TEMPORAL_SECRETS_KEYS). */
  token: string;
  requestId: string;
  ip: string | null;
}

export interface AcceptedInvite {
  org_id: string;
  role: string;
}

/** ApplicationFailure types of the invite workflow, each one HTTP status (see routes/invites.ts). */
export const INVITE_FAILURES = {
  InviteGone: 'gone',
  InviteUsed: 'conflict',
  InviteForbidden: 'forbidden',
} as const;
