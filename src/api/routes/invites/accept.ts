import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { WorkflowNotFoundError } from '@temporalio/client';
import { emailHashOf, tokenHash } from '../../../auth/hashing';
import { findInviteByTokenHash } from '../../../db/invite-store';
import type { MeResponse } from '../../../auth/types';
import { HttpError } from '../../../errors';
import { SecretBox } from '../../../temporal/secrets';
import { waitForUpdate, type UpdateOutcome } from '../../../temporal/update-with-start';
import { acceptInvite, type AcceptedInvite } from '../../../workflows/org-invite/contract';
import { withErrors } from '../../schemas';

const AcceptBody = Type.Object({ invite_token: Type.String({ minLength: 1, maxLength: 4096 }) });
const Accepted = Type.Object({ org_id: Type.String(), role: Type.String() });

/** The invitee accepts with the token from the e-mail: an update on the invite's workflow. */
const acceptInviteRoutes: FastifyPluginAsync = async (app) => {
  const { authService, db, temporal } = app.deps;
  const { config } = app;
  const secrets = SecretBox.fromConfig(config.TEMPORAL_SECRETS_KEYS);

  const findByToken = (token: string) => findInviteByTokenHash(db, tokenHash(token));

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
};

export default acceptInviteRoutes;
