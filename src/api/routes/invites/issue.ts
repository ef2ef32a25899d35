import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { HttpError } from '../../../errors';
import { SecretBox } from '../../../temporal/secrets';
import { updateWithStart, type UpdateOutcome } from '../../../temporal/update-with-start';
import { emailHashOf } from '../../../auth/hashing';
import {
  inviteIssued,
  orgInviteWorkflowId,
  type IssuedInvite,
  type OrgInviteInput,
} from '../../../workflows/org-invite/contract';
import { orgInviteWorkflow } from '../../../workflows/org-invite/workflow';
import { Email, Uuid, withErrors } from '../../schemas';
import { AssignableRole } from '../orgs';
import { assertOwner } from './shared';

const OrgParams = Type.Object({ id: Uuid });
const InviteBody = Type.Object({ email: Email, role: Type.Optional(AssignableRole) });
const Invite = Type.Object({ invite_id: Type.String(), invite_token: Type.String(), expires_at: Type.String() });

/** The owner invites an e-mail: Update-with-Start on the org-invite workflow, answered once it issued the invite. */
const issueInviteRoutes: FastifyPluginAsync = async (app) => {
  const { temporal } = app.deps;
  const { config } = app;
  const secrets = SecretBox.fromConfig(config.TEMPORAL_SECRETS_KEYS);

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
      await assertOwner(app, request, orgId);
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
};

export default issueInviteRoutes;
