/**
 * The org-invite flow's contract, shared by the invite routes, the workflow and its activities:
 * updates, signal, workflow id, input and answers. No I/O: the workflow imports it.
 */
import { defineSignal, defineUpdate } from '@temporalio/workflow';

export type InviteRole = 'admin' | 'member';
export type InviteStatus = 'pending' | 'accepted' | 'expired' | 'revoked';

/** `org-invite/<org_id>/<sha256(email)>` (hash with `emailHashOf`): a re-invite joins the pending one. */
export const orgInviteWorkflowId = (orgId: string, emailHash: string) => `org-invite/${orgId}/${emailHash}`;

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

/** Answers the HTTP call as soon as the invite exists (Update-with-Start); a re-invite gets the same one. */
export const inviteIssued = defineUpdate<IssuedInvite>('inviteIssued');
/** The caller gets the outcome: 403 for another e-mail, 409 once used, 410 after expiry. */
export const acceptInvite = defineUpdate<AcceptedInvite, [AcceptInviteInput]>('acceptInvite');
export const revokeInvite = defineSignal('revokeInvite');
