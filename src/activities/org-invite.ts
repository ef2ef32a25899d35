import { activityInfo } from '@temporalio/activity';
import type { Database } from '../db/database';
import type { Config } from '../config';
import { deterministicEventId, recordEvent } from '../events/outbox';
import {
  closePendingInvite,
  forgetUpstreamInvite,
  insertInvite,
  keepUpstreamInvite,
  keptUpstreamInvite,
  markInviteAcceptedBy,
} from '../db/invite-store';
import { emailHashOf, tokenHash } from '../auth/hashing';
import { SecretBox } from '../temporal/secrets';
import type { AuthServiceClient } from '../upstreams/auth-service';
import type { InviteRole, InviteStatus, IssuedInvite } from '../workflows/org-invite/contract';
import { authServiceFailure } from './upstream-failure';

export interface OrgInviteActivityDependencies {
  authService: AuthServiceClient;
  db: Database;
  config: Config;
}

/**
 * Activities of the org-invite workflow: upstream calls, and invite rows written with their events.
 * Access tokens and invite tokens reach and leave them sealed (TEMPORAL_SECRETS_KEYS); a plain
 * value comes from a run started before sealing and is used as it is.
 */
export function createOrgInviteActivities(deps: OrgInviteActivityDependencies) {
  const secrets = SecretBox.fromConfig(deps.config.TEMPORAL_SECRETS_KEYS);
  return { ...upstreamInviteActivities(deps, secrets), ...inviteRecordActivities(deps, secrets) };
}

/** The user's role in the org per the auth service (internal API), or undefined if not a member. */
async function memberRole(authService: AuthServiceClient, orgId: string, userId: string): Promise<string | undefined> {
  const res = await authService.call<{ user_id: string; role: string }[]>(
    'GET',
    `/auth/org/${encodeURIComponent(orgId)}/members`,
    { internal: true, retry: false },
  );
  if (res.status !== 200) throw authServiceFailure(res.status, res.body, 'The auth service refused the members lookup');
  return Array.isArray(res.body) ? res.body.find((m) => m.user_id === userId)?.role : undefined;
}

function upstreamInviteActivities({ authService, db }: OrgInviteActivityDependencies, secrets: SecretBox) {
  return {
    /**
     * POST /v1/org/{id}/invite. The answer is kept under `runKey` before the activity completes, so
     * a retry (the completion was lost, e.g. a worker crash) reuses that invite instead of
     * creating a second one upstream. `runKey` is absent in runs started before this.
     */
    async createUpstreamInvite(input: {
      token: string;
      orgId: string;
      email: string;
      role: InviteRole;
      runKey?: string;
    }): Promise<string> {
      if (input.runKey) {
        const kept = await keptUpstreamInvite(db, input.runKey);
        if (kept) return kept;
      }
      const res = await authService.call<{ invite_token: string }>('POST', `/v1/org/${input.orgId}/invite`, {
        token: secrets.open(input.token),
        body: { email: input.email, role: input.role },
        retry: false,
      });
      if (res.status !== 200 && res.status !== 201) throw authServiceFailure(res.status, res.body);
      const sealed = secrets.seal(res.body.invite_token);
      if (!input.runKey) return sealed;
      // An overlapping attempt (after a start-to-close timeout) may have kept its own: one wins.
      return (await keepUpstreamInvite(db, input.runKey, sealed)) ?? sealed;
    },

    /**
     * POST /v1/invite/accept. A retry first asks whether the user is a member already (internal
     * members list): the previous attempt may have been accepted upstream with its answer lost,
     * and accepting again would fail as "already used". `orgId`/`userId` are absent in runs
     * started before this check; they accept as before.
     */
    async acceptUpstreamInvite(input: {
      token: string;
      inviteToken: string;
      orgId?: string;
      userId?: string;
    }): Promise<{ org_id: string; role: string }> {
      if (activityInfo().attempt > 1 && input.orgId && input.userId) {
        const role = await memberRole(authService, input.orgId, input.userId);
        if (role) return { org_id: input.orgId, role };
      }
      const res = await authService.call<{ org_id: string; role: string }>('POST', '/v1/invite/accept', {
        token: secrets.open(input.token),
        body: { invite_token: secrets.open(input.inviteToken) },
        retry: false,
      });
      if (res.status === 200) return { org_id: res.body.org_id, role: res.body.role };
      throw authServiceFailure(res.status, res.body);
    },
  };
}

function inviteRecordActivities({ db, config }: OrgInviteActivityDependencies, secrets: SecretBox) {
  return {
    async hashEmail(email: string): Promise<string> {
      return emailHashOf(email);
    },

    /** The invite row and its `user_invited` event, in one transaction; a retry changes nothing. */
    storeInvite: (input: StoredInvite) => storeInvite({ db, config }, secrets, input),

    async markInviteAccepted(input: {
      eventKey: string;
      inviteId: string;
      orgId: string;
      userId: string;
      role: string;
      requestId: string;
      ip: string | null;
    }): Promise<void> {
      await db.transaction(async (tx) => {
        await markInviteAcceptedBy(tx, input.inviteId, input.userId);
        await recordEvent(tx, config, {
          eventType: 'invite_accepted',
          eventId: deterministicEventId(input.eventKey, 'invite_accepted'),
          data: { org_id: input.orgId, invite_id: input.inviteId, user_id: input.userId, role: input.role },
          requestId: input.requestId,
          actor: { user_id: input.userId, ip: input.ip },
        });
      });
    },

    async markInviteClosed(input: { inviteId: string; status: InviteStatus }): Promise<void> {
      await closePendingInvite(db, input.inviteId, input.status);
    },
  };
}

interface StoredInvite {
  eventKey: string;
  workflowId: string;
  invite: IssuedInvite;
  orgId: string;
  email: string;
  role: InviteRole;
  invitedBy: string;
  requestId: string;
  ip: string | null;
}

/** The invite row and its `user_invited` event, in one transaction; a retry changes nothing. */
async function storeInvite(
  { db, config }: Pick<OrgInviteActivityDependencies, 'db' | 'config'>,
  secrets: SecretBox,
  input: StoredInvite,
): Promise<void> {
  const invite = { ...input.invite, invite_token: secrets.open(input.invite.invite_token) };
  await db.transaction(async (tx) => {
    // The kept upstream answer is no longer needed: the invite row holds its hash from now on.
    await forgetUpstreamInvite(tx, input.eventKey);
    await insertInvite(tx, {
      inviteId: invite.invite_id,
      orgId: input.orgId,
      emailHash: emailHashOf(input.email),
      role: input.role,
      tokenHash: tokenHash(invite.invite_token),
      workflowId: input.workflowId,
      invitedBy: input.invitedBy,
      expiresAt: invite.expires_at,
    });
    await recordEvent(tx, config, {
      eventType: 'user_invited',
      eventId: deterministicEventId(input.eventKey, 'user_invited'),
      data: {
        org_id: input.orgId,
        invite_id: invite.invite_id,
        email: input.email,
        role: input.role,
        invited_by: input.invitedBy,
        invite_token: invite.invite_token,
        expires_at: invite.expires_at,
      },
      requestId: input.requestId,
      actor: { user_id: input.invitedBy, ip: input.ip },
    });
  });
}
