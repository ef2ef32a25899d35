import {
  allHandlersFinished,
  condition,
  proxyActivities,
  setHandler,
  uuid4,
  workflowInfo,
  type ApplicationFailure,
} from '@temporalio/workflow';
import type { GatewayActivities } from '../../activities';
import { httpFailure } from '../../temporal/http-failure';
import { EarlyReturn } from '../shared/early-return';
import { DATABASE_ACTIVITY, UPSTREAM_ACTIVITY } from '../shared/policies';
import {
  acceptInvite,
  inviteIssued,
  revokeInvite,
  type AcceptInviteInput,
  type AcceptedInvite,
  type InviteStatus,
  type IssuedInvite,
  type OrgInviteInput,
} from './contract';

// The inviter's token expires within minutes: retrying an upstream call much longer is pointless.
const upstream = proxyActivities<GatewayActivities>({
  ...UPSTREAM_ACTIVITY,
  retry: { ...UPSTREAM_ACTIVITY.retry, maximumAttempts: 8 },
});
const database = proxyActivities<GatewayActivities>(DATABASE_ACTIVITY);

/** What the run shares with its handlers. */
interface InviteState {
  /** The issued invite (or why issuing failed), which `inviteIssued` answers with. */
  issued: EarlyReturn<IssuedInvite>;
  status: InviteStatus;
  /** An accept is under way: revoke and expiry wait for it. */
  accepting: boolean;
  emailHash?: string;
  /** `<workflow id>/<run id>`: the key of this run's events and kept upstream answer. */
  runKey: string;
}

/**
 * org-invite/<org_id>/<sha256(email)>: the durable invite. Creates it upstream, stores it (hashed
 * token) with its `user_invited` event, then waits for accept, revoke or expiry (INVITE_TTL timer).
 * Accept is an update, so the caller gets the outcome: 403 for another e-mail, 409 once used,
 * 410 after expiry. Every step that writes is idempotent (ids derived from the run).
 */
export async function orgInviteWorkflow(input: OrgInviteInput): Promise<{ status: InviteStatus }> {
  const { workflowId, runId } = workflowInfo();
  const invite: InviteState = {
    issued: new EarlyReturn<IssuedInvite>(),
    status: 'pending',
    accepting: false,
    runKey: `${workflowId}/${runId}`,
  };
  setHandler(inviteIssued, () => invite.issued.answer());
  setHandler(revokeInvite, () => {
    if (invite.status === 'pending' && !invite.accepting) invite.status = 'revoked';
  });
  setHandler(acceptInvite, (accept) => acceptOnce(invite, input, accept));

  let issued: IssuedInvite;
  try {
    invite.emailHash = await database.hashEmail(input.email);
    issued = await issue(input, workflowId, invite.runKey);
    invite.issued.value = issued;
  } catch (err) {
    throw invite.issued.fail(err);
  }

  const decided = await condition(() => invite.status !== 'pending' && !invite.accepting, input.ttlMs);
  if (!decided) {
    // The TTL is over; an accept already under way may still finish.
    await condition(() => !invite.accepting);
    if (invite.status === 'pending') invite.status = 'expired';
  }
  if (invite.status !== 'accepted')
    await database.markInviteClosed({ inviteId: issued.invite_id, status: invite.status });
  await condition(allHandlersFinished);
  return { status: invite.status };
}

/** Creates the invite upstream, then stores it with its `user_invited` event. */
async function issue(input: OrgInviteInput, workflowId: string, runKey: string): Promise<IssuedInvite> {
  const inviteToken = await upstream.createUpstreamInvite({
    token: input.inviterToken,
    orgId: input.orgId,
    email: input.email,
    role: input.role,
    runKey,
  });
  const expiresAt = new Date(Date.now() + input.ttlMs).toISOString();
  const invite: IssuedInvite = { invite_id: uuid4(), invite_token: inviteToken, expires_at: expiresAt };
  await database.storeInvite({
    eventKey: runKey,
    workflowId,
    invite,
    orgId: input.orgId,
    email: input.email,
    role: input.role,
    invitedBy: input.invitedBy,
    requestId: input.requestId,
    ip: input.ip,
  });
  return invite;
}

/** Why the invite cannot be accepted by `accept` now, or undefined if it can. */
function refusal(invite: InviteState, accept: AcceptInviteInput): ApplicationFailure | undefined {
  if (!invite.issued.value) return httpFailure({ code: 'gone', detail: 'This invite is no longer valid' });
  if (invite.status === 'expired' || invite.status === 'revoked')
    return httpFailure({ code: 'gone', detail: 'This invite has expired' });
  if (invite.status === 'accepted' || invite.accepting)
    return httpFailure({ code: 'conflict', detail: 'This invite has already been used' });
  if (accept.emailHash !== invite.emailHash)
    return httpFailure({ code: 'forbidden', detail: 'This invite was sent to another e-mail address' });
  return undefined;
}

/** The acceptInvite update: accepts upstream once, then records the acceptance with its event. */
async function acceptOnce(
  invite: InviteState,
  input: OrgInviteInput,
  accept: AcceptInviteInput,
): Promise<AcceptedInvite> {
  await invite.issued.settled();
  const failure = refusal(invite, accept);
  if (failure) throw failure;
  const issued = invite.issued.value!;
  invite.accepting = true;
  try {
    const result = await upstream.acceptUpstreamInvite({
      token: accept.token,
      inviteToken: issued.invite_token,
      orgId: input.orgId,
      userId: accept.userId,
    });
    invite.status = 'accepted';
    await database.markInviteAccepted({
      eventKey: invite.runKey,
      inviteId: issued.invite_id,
      orgId: input.orgId,
      userId: accept.userId,
      role: result.role,
      requestId: accept.requestId,
      ip: accept.ip,
    });
    return result;
  } finally {
    invite.accepting = false;
  }
}
