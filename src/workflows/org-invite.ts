import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  defineSignal,
  defineUpdate,
  proxyActivities,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { GatewayActivities } from '../activities';
import type {
  AcceptInviteInput,
  AcceptedInvite,
  InviteStatus,
  IssuedInvite,
  OrgInviteInput,
} from '../auth/invite-types';
import { DATABASE_ACTIVITY, UPSTREAM_ACTIVITY } from './policies';

/** Answers the HTTP call as soon as the invite exists (Update-with-Start); a re-invite gets the same one. */
export const inviteIssued = defineUpdate<IssuedInvite>('inviteIssued');
export const acceptInvite = defineUpdate<AcceptedInvite, [AcceptInviteInput]>('acceptInvite');
export const revokeInvite = defineSignal('revokeInvite');

// The inviter's token expires within minutes: retrying an upstream call much longer is pointless.
const upstream = proxyActivities<GatewayActivities>({
  ...UPSTREAM_ACTIVITY,
  retry: { ...UPSTREAM_ACTIVITY.retry, maximumAttempts: 8 },
});
const database = proxyActivities<GatewayActivities>(DATABASE_ACTIVITY);

/**
 * org-invite/<org_id>/<sha256(email)>: the durable invite. Creates it upstream, stores it (hashed
 * token) with its `user_invited` event, then waits for accept, revoke or expiry (INVITE_TTL timer).
 * Accept is an update, so the caller gets the outcome: 403 for another e-mail, 409 once used,
 * 410 after expiry. Every step that writes is idempotent (ids derived from the run).
 */
export async function orgInviteWorkflow(input: OrgInviteInput): Promise<{ status: InviteStatus }> {
  let issued: IssuedInvite | undefined;
  let failure: ApplicationFailure | undefined;
  let status: InviteStatus = 'pending';
  let accepting = false;
  let emailHash: string | undefined;
  const { workflowId, runId } = workflowInfo();

  setHandler(inviteIssued, async () => {
    await condition(() => issued !== undefined || failure !== undefined);
    if (failure) throw failure;
    return issued!;
  });

  setHandler(revokeInvite, () => {
    if (status === 'pending' && !accepting) status = 'revoked';
  });

  setHandler(acceptInvite, async (accept) => {
    await condition(() => issued !== undefined || failure !== undefined);
    if (!issued)
      throw ApplicationFailure.create({
        type: 'InviteGone',
        message: 'This invite is no longer valid',
        nonRetryable: true,
      });
    if (status === 'expired' || status === 'revoked') {
      throw ApplicationFailure.create({ type: 'InviteGone', message: 'This invite has expired', nonRetryable: true });
    }
    if (status === 'accepted' || accepting) {
      throw ApplicationFailure.create({
        type: 'InviteUsed',
        message: 'This invite has already been used',
        nonRetryable: true,
      });
    }
    if (accept.emailHash !== emailHash) {
      throw ApplicationFailure.create({
        type: 'InviteForbidden',
        message: 'This invite was sent to another e-mail address',
        nonRetryable: true,
      });
    }
    accepting = true;
    try {
      const result = await upstream.acceptUpstreamInvite({
        token: accept.token,
        inviteToken: issued.invite_token,
        orgId: input.orgId,
        userId: accept.userId,
      });
      status = 'accepted';
      await database.markInviteAccepted({
        eventKey: `${workflowId}/${runId}`,
        inviteId: issued.invite_id,
        orgId: input.orgId,
        userId: accept.userId,
        role: result.role,
        requestId: accept.requestId,
        ip: accept.ip,
      });
      return result;
    } finally {
      accepting = false;
    }
  });

  try {
    emailHash = await database.hashEmail(input.email);
    const inviteToken = await upstream.createUpstreamInvite({
      token: input.inviterToken,
      orgId: input.orgId,
      email: input.email,
      role: input.role,
      runKey: `${workflowId}/${runId}`,
    });
    const expiresAt = new Date(Date.now() + input.ttlMs).toISOString();
    const invite: IssuedInvite = { invite_id: uuid4(), invite_token: inviteToken, expires_at: expiresAt };
    await database.storeInvite({
      eventKey: `${workflowId}/${runId}`,
      workflowId,
      invite,
      orgId: input.orgId,
      email: input.email,
      role: input.role,
      invitedBy: input.invitedBy,
      requestId: input.requestId,
      ip: input.ip,
    });
    issued = invite;
  } catch (err) {
    failure = err instanceof ApplicationFailure ? err : ApplicationFailure.fromError(err);
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof ApplicationFailure) failure = cause;
    throw failure;
  }

  // Handlers change `status`; read it through a function so the compiler does not narrow it.
  const current = (): InviteStatus => status;
  const decided = await condition(() => current() !== 'pending' && !accepting, input.ttlMs);
  if (!decided) {
    // The TTL is over; an accept already under way may still finish.
    await condition(() => !accepting);
    if (current() === 'pending') status = 'expired';
  }
  if (current() !== 'accepted') await database.markInviteClosed({ inviteId: issued.invite_id, status: current() });
  await condition(allHandlersFinished);
  return { status };
}
