/**
 * The sign-up flow's contract, shared by the route, the workflow and its activities: the update the
 * route waits on, the workflow id, input and answer. No I/O: the workflow imports it.
 */
import { defineUpdate } from '@temporalio/workflow';
import type { SignedUpUser, UpstreamTokens } from '../../auth/sign-up-types';

/** `sign-up/<sha256(email)>` (hash with `emailHashOf`): a retry of the same sign-up joins the run. */
export const signUpWorkflowId = (emailHash: string) => `sign-up/${emailHash}`;

/** The answer to a sign-up of a registered e-mail, or one that may not join the run (another password). */
export const ALREADY_REGISTERED = { code: 'conflict', detail: 'This e-mail address is already registered' } as const;

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

export interface SignUpAnswer {
  /** Sealed JSON of UpstreamTokens (an object only in runs started before sealing). */
  tokens: string | UpstreamTokens;
  user: SignedUpUser;
}

/**
 * Answers the HTTP call as soon as the account exists (Update-with-Start early return). Its
 * argument is the caller's credential proofs: only a caller with the run's e-mail and password
 * is admitted, and only until the account exists (runs started before proofs admit nobody new).
 */
export const signUpAnswer = defineUpdate<SignUpAnswer, [proofs: string[]]>('signUpAnswer');
