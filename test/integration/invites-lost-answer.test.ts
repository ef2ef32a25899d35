import { Database } from '../../src/db/database';
import { createOrgInviteActivities } from '../../src/activities/org-invite';
import { SecretBox } from '../../src/temporal/secrets';
import { AuthServiceClient } from '../../src/upstreams/auth-service';
import { createLogger } from '../../src/logger';
import { call, startAuthWorkerStack, type AuthWorkerStack } from '../support/auth-gateway';
import { testConfig, uniqueSuffix, waitFor } from '../support/stack';
import { inviteWorkflowIdOf as inviteWorkflowId } from '../support/workflow-ids';

jest.setTimeout(120_000);

describe('invite retries converge on the upstream state (issue 17, item 6)', () => {
  const taskQueue = `test-invites-lost-${uniqueSuffix()}`;
  const overrides = { TEMPORAL_TASK_QUEUE: taskQueue, INTERNAL_SERVICE_KEY: 'test-internal-key' };
  let s: AuthWorkerStack;
  let db: Database;

  beforeAll(async () => {
    s = await startAuthWorkerStack(overrides);
    db = new Database(testConfig());
  });

  afterAll(async () => {
    await s.close();
    await db.close();
  });

  it('a retried create (its completion lost after the upstream answered) reuses the kept invite, creating no second one', async () => {
    const owner = await s.user('owner');
    const orgId = s.fake.createOrg(owner.sub, `Retried Create Org ${uniqueSuffix()}`).org_id;
    const config = testConfig({ ...overrides, AUTH_SERVICE_URL: s.fake.url });
    const authService = new AuthServiceClient(config, createLogger('silent'));
    const activities = createOrgInviteActivities({ authService, db, config });
    const input = {
      token: SecretBox.fromConfig(config.TEMPORAL_SECRETS_KEYS).seal(owner.token),
      orgId,
      email: `retried-${uniqueSuffix()}@example.com`,
      role: 'member' as const,
      runKey: `org-invite/${orgId}/test/${uniqueSuffix()}`,
    };
    s.fake.clearCalls();
    try {
      // Two attempts of one activity, as Temporal retries it when the first one's completion is lost.
      const first = await activities.createUpstreamInvite(input);
      const second = await activities.createUpstreamInvite(input);
      expect(second).toBe(first);
    } finally {
      await authService.close();
    }
    expect(s.fake.callsTo({ method: 'POST', path: `/v1/org/${orgId}/invite` })).toHaveLength(1);
    expect([...s.fake.invites.values()].filter((i) => i.org_id === orgId)).toHaveLength(1);
  });

  it('the kept upstream invite is dropped once the invite row is stored', async () => {
    const owner = await s.user('owner');
    const orgId = s.fake.createOrg(owner.sub, `Kept Token Org ${uniqueSuffix()}`).org_id;
    const invitee = await s.user('invitee');
    const inv = await call(s.gw.url, 'POST', `/v1/org/${orgId}/invite`, {
      token: owner.token,
      body: { email: invitee.email },
    });
    expect(inv.status).toBe(201);
    const kept = await db.execute('select 1 from upstream_invites where run_key like $1', [
      `${inviteWorkflowId(orgId, invitee.email)}/%`,
    ]);
    expect(kept).toHaveLength(0);
  });

  it.each([503, 'reset'] as const)(
    'an accept applied upstream whose answer is lost (%s) is retried into 200, an accepted row and invite_accepted',
    async (lost) => {
      const owner = await s.user('owner');
      const orgId = s.fake.createOrg(owner.sub, `Lost Answer Org ${uniqueSuffix()}`).org_id;
      const invitee = await s.user('invitee');
      const inv = await call(s.gw.url, 'POST', `/v1/org/${orgId}/invite`, {
        token: owner.token,
        body: { email: invitee.email, role: 'admin' },
      });
      expect(inv.status).toBe(201);

      s.fake.clearCalls();
      s.fake.failNext(1, lost, { match: { path: '/v1/invite/accept' }, afterHandling: true });
      const res = await call(s.gw.url, 'POST', '/v1/invite/accept', {
        token: invitee.token,
        body: { invite_token: inv.body.invite_token },
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ org_id: orgId, role: 'admin' });
      // The upstream applied the first call; the retry asked before accepting again.
      expect(s.fake.callsTo({ path: '/v1/invite/accept' })).toHaveLength(1);
      expect(s.fake.callsTo({ path: `/auth/org/${orgId}/members` }).length).toBeGreaterThanOrEqual(1);

      const rows = await db.execute<{ status: string; accepted_by: string }[]>(
        'select status, accepted_by from org_invites where invite_id = $1',
        [inv.body.invite_id],
      );
      expect(rows).toEqual([{ status: 'accepted', accepted_by: invitee.sub }]);
      const events = await waitFor('invite_accepted', async () => {
        const r = await db.execute<{ payload: any }[]>(
          `select payload from outbox_events where event_type = 'invite_accepted' and message_key = $1`,
          [orgId],
        );
        return r.length ? r : undefined;
      });
      expect(events.map((e) => e.payload.data)).toEqual([
        { org_id: orgId, invite_id: inv.body.invite_id, user_id: invitee.sub, role: 'admin' },
      ]);
      const handle = s.gw.deps.temporal.client.workflow.getHandle(inviteWorkflowId(orgId, invitee.email));
      expect(await handle.result()).toEqual({ status: 'accepted' });
    },
  );
});
