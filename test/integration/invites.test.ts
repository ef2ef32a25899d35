import { inviteWorkflowIdOf as inviteWorkflowId } from '../support/workflow-ids';
import { Database } from '../../src/db/database';
import { call, startAuthWorkerStack, type AuthWorkerStack } from '../support/auth-gateway';
import { testConfig, uniqueSuffix, waitFor } from '../support/stack';
import { decodedHistoryText } from '../support/temporal-history';

jest.setTimeout(120_000);

describe('organisation invites as durable workflows', () => {
  const taskQueue = `test-invites-${uniqueSuffix()}`;
  const overrides = { TEMPORAL_TASK_QUEUE: taskQueue, INVITE_TTL: '4s' };
  let s: AuthWorkerStack;
  let db: Database;
  let owner: { sub: string; token: string };
  let orgId: string;

  beforeAll(async () => {
    s = await startAuthWorkerStack(overrides);
    db = new Database(testConfig());
    owner = await s.user('owner');
    orgId = s.fake.createOrg(owner.sub, `Invite Org ${uniqueSuffix()}`).org_id;
  });

  afterAll(async () => {
    await s.close();
    await db.close();
  });

  const events = (type: string, key: string) =>
    db.execute<{ payload: any; topic: string }[]>(
      'select payload, topic from outbox_events where event_type = $1 and message_key = $2 order by id',
      [type, key],
    );

  it('invites (201), re-inviting a pending e-mail returns the same invite, and user_invited carries the invite token', async () => {
    const invitee = await s.user('invitee');
    const res = await call(s.gw.url, 'POST', `/v1/org/${orgId}/invite`, {
      token: owner.token,
      body: { email: invitee.email, role: 'admin' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      invite_id: expect.any(String),
      invite_token: expect.any(String),
      expires_at: expect.any(String),
    });
    const again = await call(s.gw.url, 'POST', `/v1/org/${orgId}/invite`, {
      token: owner.token,
      body: { email: invitee.email.toUpperCase() },
    });
    expect(again.status).toBe(201);
    expect(again.body).toEqual(res.body);
    const rows = await waitFor('user_invited', async () => {
      const r = (await events('user_invited', orgId)).filter((e) => e.payload.data.invite_id === res.body.invite_id);
      return r.length ? r : undefined;
    });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.topic).toBe('organization-events');
    expect(rows[0]!.payload.data).toEqual({
      org_id: orgId,
      invite_id: res.body.invite_id,
      email: invitee.email,
      role: 'admin',
      invited_by: owner.sub,
      invite_token: res.body.invite_token,
      expires_at: res.body.expires_at,
    });
  });

  it('refuses invites from a non-owner (403) and a role outside admin/member (422)', async () => {
    const stranger = await s.user('stranger');
    expect(
      (
        await call(s.gw.url, 'POST', `/v1/org/${orgId}/invite`, {
          token: stranger.token,
          body: { email: 'x@example.com' },
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await call(s.gw.url, 'POST', `/v1/org/${orgId}/invite`, {
          token: owner.token,
          body: { email: 'x@example.com', role: 'owner' },
        })
      ).status,
    ).toBe(422);
  });

  it('accept: another user → the same 404 as an unknown token, the invited user → 200 once, a second accept → 409', async () => {
    const invitee = await s.user('joiner');
    const other = await s.user('other');
    const inv = await call(s.gw.url, 'POST', `/v1/org/${orgId}/invite`, {
      token: owner.token,
      body: { email: invitee.email },
    });
    expect(inv.status).toBe(201);

    const wrong = await call(s.gw.url, 'POST', '/v1/invite/accept', {
      token: other.token,
      body: { invite_token: inv.body.invite_token },
    });
    expect(wrong.status).toBe(404);

    const ok = await call(s.gw.url, 'POST', '/v1/invite/accept', {
      token: invitee.token,
      body: { invite_token: inv.body.invite_token },
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ org_id: orgId, role: 'member' });
    expect(s.fake.orgs.get(orgId)?.members.get(invitee.sub)).toBe('member');

    const twice = await call(s.gw.url, 'POST', '/v1/invite/accept', {
      token: invitee.token,
      body: { invite_token: inv.body.invite_token },
    });
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe('conflict');

    const unknown = await call(s.gw.url, 'POST', '/v1/invite/accept', {
      token: invitee.token,
      body: { invite_token: 'no-such-invite' },
    });
    expect(unknown.status).toBe(404);
    // No oracle: another user's token, pending or used, answers exactly as a token that never existed.
    const usedByOther = await call(s.gw.url, 'POST', '/v1/invite/accept', {
      token: other.token,
      body: { invite_token: inv.body.invite_token },
    });
    for (const foreign of [wrong, usedByOther]) {
      expect({ ...foreign.body, request_id: undefined }).toEqual({ ...unknown.body, request_id: undefined });
      expect(foreign.status).toBe(unknown.status);
    }

    const accepted = await waitFor('invite_accepted', async () => {
      const r = (await events('invite_accepted', orgId)).filter((e) => e.payload.data.invite_id === inv.body.invite_id);
      return r.length ? r : undefined;
    });
    expect(accepted).toHaveLength(1);
    expect(accepted[0]!.payload.data).toEqual({
      org_id: orgId,
      invite_id: inv.body.invite_id,
      user_id: invitee.sub,
      role: 'member',
    });
    const result = await s.gw.deps.temporal.client.workflow.getHandle(inviteWorkflowId(orgId, invitee.email)).result();
    expect(result).toEqual({ status: 'accepted' });

    // Decoded with the codec (what an operator sees), the history holds none of the tokens.
    const { text, decoded } = await decodedHistoryText(testConfig(overrides), inviteWorkflowId(orgId, invitee.email));
    expect(decoded).toBeGreaterThan(5);
    expect(text).toContain(invitee.email);
    for (const secret of [inv.body.invite_token, owner.token, invitee.token, other.token])
      expect(text).not.toContain(secret);
  });

  it('after INVITE_TTL the invite is gone: 410', async () => {
    const late = await s.user('late');
    const inv = await call(s.gw.url, 'POST', `/v1/org/${orgId}/invite`, {
      token: owner.token,
      body: { email: late.email },
    });
    expect(inv.status).toBe(201);
    const result = await s.gw.deps.temporal.client.workflow.getHandle(inviteWorkflowId(orgId, late.email)).result();
    expect(result).toEqual({ status: 'expired' });
    const res = await call(s.gw.url, 'POST', '/v1/invite/accept', {
      token: late.token,
      body: { invite_token: inv.body.invite_token },
    });
    expect(res.status).toBe(410);
    expect(res.body.code).toBe('gone');
  });

  it('a revoked invite is gone too (410)', async () => {
    const revoked = await s.user('revoked');
    const inv = await call(s.gw.url, 'POST', `/v1/org/${orgId}/invite`, {
      token: owner.token,
      body: { email: revoked.email },
    });
    const del = await call(s.gw.url, 'DELETE', `/v1/org/${orgId}/invite/${inv.body.invite_id}`, { token: owner.token });
    expect(del.status).toBe(204);
    await s.gw.deps.temporal.client.workflow.getHandle(inviteWorkflowId(orgId, revoked.email)).result();
    const res = await call(s.gw.url, 'POST', '/v1/invite/accept', {
      token: revoked.token,
      body: { invite_token: inv.body.invite_token },
    });
    expect(res.status).toBe(410);
  });
});
