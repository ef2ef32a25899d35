import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { WithStartWorkflowOperation, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { emailHashOf, sha256 } from '../../activities/invites';
import { INVITE_FAILURES, type AcceptedInvite, type IssuedInvite, type OrgInviteInput } from '../../auth/invite-types';
import { ERROR_STATUS, HttpError, type ErrorCode } from '../../errors';
import { GatewayOperation, GatewayOrgId, GatewayRequestId, GatewayUserId } from '../../temporal/operations';
import { acceptInvite, inviteIssued, orgInviteWorkflow, revokeInvite } from '../../workflows/org-invite';
import type { MeResponse } from '../plugins/auth';
import { Email, Uuid, withErrors } from '../schemas';
import { AssignableRole } from './orgs';

const OrgParams = Type.Object({ id: Uuid });
const RevokeParams = Type.Object({ id: Uuid, invite_id: Uuid });
const InviteBody = Type.Object({ email: Email, role: Type.Optional(AssignableRole) });
const AcceptBody = Type.Object({ invite_token: Type.String({ minLength: 1, maxLength: 4096 }) });
const Invite = Type.Object({ invite_id: Type.String(), invite_token: Type.String(), expires_at: Type.String() });
const Accepted = Type.Object({ org_id: Type.String(), role: Type.String() });

export const inviteWorkflowId = (orgId: string, email: string) => `org-invite/${orgId}/${emailHashOf(email)}`;

/** The HTTP error of a failed invite update: the workflow's own failures, or an upstream refusal. */
function errorOf(err: WorkflowUpdateFailedError): HttpError {
  let cause: unknown = err.cause;
  while (cause && !(cause instanceof ApplicationFailure)) cause = (cause as { cause?: unknown }).cause;
  if (!(cause instanceof ApplicationFailure))
    return new HttpError('upstream_error', 'The invite could not be processed');
  const own = INVITE_FAILURES[cause.type as keyof typeof INVITE_FAILURES];
  if (own) return new HttpError(own, cause.message);
  const code = (cause.details?.[0] as { code?: string } | undefined)?.code;
  return new HttpError(code && code in ERROR_STATUS ? (code as ErrorCode) : 'upstream_error', cause.message);
}

interface InviteRow {
  invite_id: string;
  workflow_id: string;
  status: 'pending' | 'accepted' | 'expired' | 'revoked';
  expires_at: Date | string;
  email_hash: string;
}

/**
 * Invites (gateway-http.md, Organizations): POST /v1/org/{id}/invite starts (or joins) the
 * org-invite workflow with Update-with-Start; POST /v1/invite/accept is an update on it.
 */
const inviteRoutes: FastifyPluginAsync = async (app) => {
  const { authService, orm, temporal } = app.deps;
  const { config } = app;

  async function assertOwner(request: FastifyRequest, orgId: string) {
    const me = await authService.expect<MeResponse>('GET', '/v1/client/me', [200], { token: request.user!.token });
    const membership = me.body.orgs.find((o) => o.org_id === orgId);
    if (!membership) throw new HttpError('forbidden', 'Not a member of this organization');
    if (!(membership.is_owner || membership.role === 'owner'))
      throw new HttpError('forbidden', 'Insufficient permissions');
  }

  async function findByToken(token: string): Promise<InviteRow | undefined> {
    const rows = await orm.em
      .getConnection()
      .execute<InviteRow[]>(
        'select invite_id, workflow_id, status, expires_at, email_hash from org_invites where token_hash = ?',
        [sha256(token)],
      );
    return rows[0];
  }

  app.post<{ Params: Static<typeof OrgParams>; Body: Static<typeof InviteBody> }>(
    '/v1/org/:id/invite',
    {
      preHandler: app.authenticate,
      config: { rateLimit: 'auth', idempotent: true },
      schema: {
        tags: ['organizations'],
        summary:
          'Invite by e-mail (workflow org-invite; owner only). Re-inviting a pending e-mail returns the pending invite',
        security: [{ bearer: [] }],
        params: OrgParams,
        body: InviteBody,
        response: withErrors({ 201: Invite }, 401, 403, 409, 422, 429, 502, 503, 504),
      },
    },
    async (request, reply) => {
      const user = request.user!;
      const orgId = request.params.id;
      const email = request.body.email.trim().toLowerCase();
      await assertOwner(request, orgId);
      const workflowId = inviteWorkflowId(orgId, email);
      const input: OrgInviteInput = {
        orgId,
        email,
        role: request.body.role ?? 'member',
        invitedBy: user.sub,
        inviterToken: user.token,
        ttlMs: config.INVITE_TTL,
        requestId: request.id,
        ip: request.ip ?? null,
      };
      const startWorkflowOperation = new WithStartWorkflowOperation(orgInviteWorkflow, {
        workflowId,
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        typedSearchAttributes: [
          { key: GatewayOperation, value: 'org-invite' },
          { key: GatewayUserId, value: user.sub },
          { key: GatewayOrgId, value: orgId },
          { key: GatewayRequestId, value: request.id },
        ],
        memo: { request_id: request.id },
      });
      let invite: IssuedInvite;
      try {
        invite = await withDeadline(
          temporal.client.workflow.executeUpdateWithStart(inviteIssued, { startWorkflowOperation }),
          config.WORKFLOW_SYNC_TIMEOUT_MS,
        );
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError) throw errorOf(err);
        if (err instanceof HttpError) throw err;
        throw new HttpError('upstream_unavailable', 'Invites are temporarily unavailable');
      }
      return reply.status(201).send(invite);
    },
  );

  app.post<{ Body: Static<typeof AcceptBody> }>(
    '/v1/invite/accept',
    {
      preHandler: app.authenticate,
      config: { idempotent: true },
      schema: {
        tags: ['organizations'],
        summary: 'Accept an invite (update on its workflow): 404 unknown, 410 expired, 409 used, 403 other e-mail',
        security: [{ bearer: [] }],
        body: AcceptBody,
        response: withErrors({ 200: Accepted }, 401, 403, 404, 409, 410, 422, 502, 503, 504),
      },
    },
    async (request) => {
      const user = request.user!;
      const row = await findByToken(request.body.invite_token);
      if (!row) throw new HttpError('not_found', 'Invite not found');
      if (row.status === 'accepted') throw new HttpError('conflict', 'This invite has already been used');
      if (row.status !== 'pending' || new Date(row.expires_at).getTime() <= Date.now())
        throw new HttpError('gone', 'This invite has expired');
      const email =
        user.email ??
        (await authService.expect<MeResponse>('GET', '/v1/client/me', [200], { token: user.token })).body.email;
      const emailHash = emailHashOf(email);
      if (emailHash !== row.email_hash)
        throw new HttpError('forbidden', 'This invite was sent to another e-mail address');
      let accepted: AcceptedInvite;
      try {
        accepted = await withDeadline(
          temporal.client.workflow.getHandle(row.workflow_id).executeUpdate(acceptInvite, {
            args: [{ userId: user.sub, emailHash, token: user.token, requestId: request.id, ip: request.ip ?? null }],
          }),
          config.WORKFLOW_SYNC_TIMEOUT_MS,
        );
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError) throw errorOf(err);
        if (err instanceof HttpError) throw err;
        if (
          err instanceof WorkflowNotFoundError ||
          (err instanceof Error && /already completed|not found/i.test(err.message))
        ) {
          // The workflow ended meanwhile (expired or accepted): its row says which.
          const now = await findByToken(request.body.invite_token);
          if (now?.status === 'accepted') throw new HttpError('conflict', 'This invite has already been used');
          throw new HttpError('gone', 'This invite has expired');
        }
        throw new HttpError('upstream_unavailable', 'Invites are temporarily unavailable');
      }
      app.forgetUserContext(user.token);
      return accepted;
    },
  );

  app.delete<{ Params: Static<typeof RevokeParams> }>(
    '/v1/org/:id/invite/:invite_id',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['organizations'],
        summary: 'Revoke a pending invite (owner only)',
        security: [{ bearer: [] }],
        params: RevokeParams,
        response: withErrors({ 204: Type.Null() }, 401, 403, 404, 422, 503),
      },
    },
    async (request, reply) => {
      await assertOwner(request, request.params.id);
      const rows = await orm.em
        .getConnection()
        .execute<InviteRow[]>(
          "select invite_id, workflow_id, status, expires_at, email_hash from org_invites where invite_id = ? and org_id = ? and status = 'pending'",
          [request.params.invite_id, request.params.id],
        );
      const row = rows[0];
      if (!row) throw new HttpError('not_found', 'No pending invite with this id');
      await temporal.client.workflow.getHandle(row.workflow_id).signal(revokeInvite);
      return reply.status(204).send();
    },
  );
};

async function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new HttpError('upstream_timeout', 'The invite service did not answer in time')),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export default inviteRoutes;
