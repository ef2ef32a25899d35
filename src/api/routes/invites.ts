import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { WorkflowNotFoundError } from '@temporalio/client';
import { emailHashOf, sha256 } from '../../auth/hashing';
import { HttpError } from '../../errors';
import { SecretBox } from '../../temporal/secrets';
import { updateWithStart, waitForUpdate, type UpdateOutcome } from '../../temporal/update-with-start';
import {
  acceptInvite,
  inviteIssued,
  orgInviteWorkflowId,
  revokeInvite,
  type AcceptedInvite,
  type IssuedInvite,
  type OrgInviteInput,
} from '../../workflows/org-invite/contract';
import { orgInviteWorkflow } from '../../workflows/org-invite/workflow';
import type { MeResponse } from '../../auth/types';
import { orgMembership } from '../membership';
import { Email, Uuid, withErrors } from '../schemas';
import { AssignableRole } from './orgs';

const OrgParams = Type.Object({ id: Uuid });
const RevokeParams = Type.Object({ id: Uuid, invite_id: Uuid });
const InviteBody = Type.Object({ email: Email, role: Type.Optional(AssignableRole) });
const AcceptBody = Type.Object({ invite_token: Type.String({ minLength: 1, maxLength: 4096 }) });
const Invite = Type.Object({ invite_id: Type.String(), invite_token: Type.String(), expires_at: Type.String() });
const Accepted = Type.Object({ org_id: Type.String(), role: Type.String() });

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
  const secrets = SecretBox.fromConfig(config.TEMPORAL_SECRETS_KEYS);

  async function assertOwner(request: FastifyRequest, orgId: string) {
    const membership = await orgMembership(app, request, orgId);
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
      config: { authRateLimit: true, idempotent: true },
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
      const workflowId = orgInviteWorkflowId(orgId, emailHashOf(email));
      const input: OrgInviteInput = {
        orgId,
        email,
        role: request.body.role ?? 'member',
        invitedBy: user.sub,
        inviterToken: secrets.seal(user.token),
        ttlMs: config.INVITE_TTL,
        requestId: request.id,
        ip: request.ip ?? null,
      };
      let outcome: UpdateOutcome<IssuedInvite>;
      try {
        outcome = await updateWithStart(temporal.client, orgInviteWorkflow, inviteIssued, {
          workflowId,
          taskQueue: config.TEMPORAL_TASK_QUEUE,
          args: [input],
          kind: 'org-invite',
          requestId: request.id,
          userId: user.sub,
          orgId,
          timeoutMs: config.WORKFLOW_SYNC_TIMEOUT_MS,
        });
      } catch (err) {
        if (err instanceof HttpError) throw err;
        throw new HttpError('upstream_unavailable', 'Invites are temporarily unavailable');
      }
      if (outcome.status === 'running')
        throw new HttpError('upstream_timeout', 'The invite could not be created in time; try again');
      const issued = outcome.result;
      return reply.status(201).send({ ...issued, invite_token: secrets.open(issued.invite_token) });
    },
  );

  app.post<{ Body: Static<typeof AcceptBody> }>(
    '/v1/invite/accept',
    {
      config: { authRateLimit: true, idempotent: true },
      schema: {
        tags: ['organizations'],
        summary:
          'Accept an invite (update on its workflow): 404 unknown or sent to another e-mail, 410 expired, 409 used',
        security: [{ bearer: [] }],
        body: AcceptBody,
        response: withErrors({ 200: Accepted }, 401, 404, 409, 410, 422, 429, 502, 503, 504),
      },
    },
    async (request) => {
      const user = request.user!;
      const row = await findByToken(request.body.invite_token);
      // Another person's token answers exactly as an unknown one, and says nothing of its state:
      // no oracle for which tokens exist.
      const notFound = new HttpError('not_found', 'Invite not found');
      if (!row) throw notFound;
      const email =
        user.email ??
        (await authService.expect<MeResponse>('GET', '/v1/client/me', [200], { token: user.token })).body.email;
      const emailHash = emailHashOf(email);
      if (emailHash !== row.email_hash) throw notFound;
      if (row.status === 'accepted') throw new HttpError('conflict', 'This invite has already been used');
      if (row.status !== 'pending' || new Date(row.expires_at).getTime() <= Date.now())
        throw new HttpError('gone', 'This invite has expired');
      let outcome: UpdateOutcome<AcceptedInvite>;
      try {
        outcome = await waitForUpdate(
          temporal.client.workflow.getHandle(row.workflow_id).executeUpdate(acceptInvite, {
            args: [
              {
                userId: user.sub,
                emailHash,
                token: secrets.seal(user.token),
                requestId: request.id,
                ip: request.ip ?? null,
              },
            ],
          }),
          config.WORKFLOW_SYNC_TIMEOUT_MS,
        );
      } catch (err) {
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
      if (outcome.status === 'running')
        throw new HttpError('upstream_timeout', 'The invite could not be accepted in time; try again');
      app.forgetUserContext(user.token);
      return outcome.result;
    },
  );

  app.delete<{ Params: Static<typeof RevokeParams> }>(
    '/v1/org/:id/invite/:invite_id',
    {
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

export default inviteRoutes;
