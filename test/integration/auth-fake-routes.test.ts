import { decodeJwt } from 'jose';
import type { AuthFake } from '../support/auth-fake';
import { useAuthFake } from '../support/auth-gateway';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('auth service fake: client, organisation and internal routes', () => {
  const fx = useAuthFake();
  const { call, signUp } = fx;
  let auth: AuthFake;
  beforeAll(() => {
    auth = fx.fake;
  });

  describe('client routes', () => {
    it('signs up (201, own cookies), refuses a taken e-mail (400) and invalid bodies (422)', async () => {
      const res = await call('POST', '/v1/client/sign-up', {
        body: { email: 'new@example.test', password: 'password-1', full_name: '' },
      });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        access_token: expect.any(String),
        refresh_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: 300,
      });
      const cookies = res.headers['set-cookie'] as string[];
      expect(cookies).toHaveLength(2);
      expect(cookies[0]).toMatch(/^access_token=.*; HttpOnly; .*Path=\/v1\/client\/cookies/);

      const taken = await call('POST', '/v1/client/sign-up', {
        body: { email: 'NEW@example.test', password: 'x', full_name: 'x' },
      });
      expect(taken.status).toBe(400);
      expect(taken.body).toEqual({ detail: 'User with this email already exists' });

      const missing = await call('POST', '/v1/client/sign-up', { body: { email: 'a@example.test', password: 'x' } });
      expect(missing.status).toBe(422);
      expect(missing.body.detail).toEqual([expect.objectContaining({ loc: ['body', 'full_name'], type: 'missing' })]);

      const badEmail = await call('POST', '/v1/client/sign-up', {
        body: { email: 'nope', password: 'x', full_name: 'x' },
      });
      expect(badEmail.status).toBe(422);
      expect(badEmail.body.detail[0]).toMatchObject({ loc: ['body', 'email'], type: 'value_error' });

      const notJson = await call('POST', '/v1/client/sign-up', {
        raw: '{oops',
        headers: { 'content-type': 'application/json' },
      });
      expect(notJson.status).toBe(422);
      expect(notJson.body.detail[0]).toMatchObject({ type: 'json_invalid' });
      expect((await call('POST', '/v1/client/sign-up')).status).toBe(422);
    });

    it('signs in (200) and answers 401 Invalid credentials otherwise, including while Keycloak is down', async () => {
      const { email, password } = await signUp();
      const ok = await call('POST', '/v1/client/sign-in/password', { body: { email, password } });
      expect(ok.status).toBe(200);
      expect(ok.body.token_type).toBe('Bearer');
      expect(ok.headers['set-cookie']).toHaveLength(2);

      for (const body of [
        { email, password: 'wrong' },
        { email: 'nobody@example.test', password },
      ]) {
        const res = await call('POST', '/v1/client/sign-in/password', { body });
        expect(res.status).toBe(401);
        expect(res.body).toEqual({ detail: 'Invalid credentials' });
      }
      auth.setKeycloakDown(true);
      expect((await call('POST', '/v1/client/sign-in/password', { body: { email, password } })).status).toBe(401);
    });

    it('refreshes, logs out (204) and keeps the access token valid until it expires', async () => {
      const { token, refresh } = await signUp();
      const refreshed = await call('POST', '/v1/client/refresh_token', { body: { refresh_token: refresh } });
      expect(refreshed.status).toBe(200);
      expect(refreshed.body.refresh_token).not.toBe(refresh);
      expect((await call('POST', '/v1/client/refresh_token', { body: { refresh_token: 'nope' } })).status).toBe(401);

      expect((await call('POST', '/v1/client/logout', { body: { refresh_token: refresh } })).status).toBe(204);
      const afterLogout = await call('POST', '/v1/client/refresh_token', {
        body: { refresh_token: refreshed.body.refresh_token },
      });
      expect(afterLogout.status).toBe(401);
      const again = await call('POST', '/v1/client/logout', { body: { refresh_token: refresh } });
      expect(again.status).toBe(400);
      expect(typeof again.body.detail).toBe('string');

      expect((await call('GET', '/v1/client/me', { token })).status).toBe(200);
      const valid = await call('GET', `/v1/client/validate?token=${token}`);
      expect(valid.body).toEqual({ valid: true, sub: decodeJwt(token).sub, exp: decodeJwt(token).exp });
    });

    it('validates tokens: nulls when invalid, 422 without the parameter', async () => {
      const invalid = await call('GET', `/v1/client/validate?token=${await auth.forge.expired()}`);
      expect(invalid.status).toBe(200);
      expect(invalid.body).toEqual({ valid: false, sub: null, exp: null });
      const missing = await call('GET', '/v1/client/validate');
      expect(missing.status).toBe(422);
      expect(missing.body.detail[0]).toMatchObject({ loc: ['query', 'token'], type: 'missing' });
    });

    it('serves /me, update, change-password and switch-org with their errors', async () => {
      const { email, password, token } = await signUp();
      expect((await call('GET', '/v1/client/me')).status).toBe(401);
      expect((await call('GET', '/v1/client/me', { token: 'garbage' })).status).toBe(401);

      const me = await call('GET', '/v1/client/me', { token });
      expect(me.body).toEqual({
        sub: decodeJwt(token).sub,
        email,
        full_name: 'Ada Lovelace',
        orgs: [],
        active_org_id: null,
      });

      const updated = await call('PATCH', '/v1/client/update', { token, body: { full_name: 'Ada King' } });
      expect(updated.status).toBe(200);
      expect(updated.body.full_name).toBe('Ada King');
      expect((await call('PATCH', '/v1/client/update', { token, body: {} })).status).toBe(422);

      const wrongOld = await call('POST', '/v1/client/change-password', {
        token,
        body: { old_password: 'wrong', new_password: 'new-password' },
      });
      expect(wrongOld.status).toBe(400);
      expect(wrongOld.body).toEqual({ detail: 'Invalid old password' });
      const changed = await call('POST', '/v1/client/change-password', {
        token,
        body: { old_password: password, new_password: 'new-password' },
      });
      expect(changed.status).toBe(200);
      expect(typeof changed.body.message).toBe('string');
      expect(
        (await call('POST', '/v1/client/sign-in/password', { body: { email, password: 'new-password' } })).status,
      ).toBe(200);

      const badUuid = await call('PATCH', '/v1/client/switch-org', { token, body: { org_id: 'not-a-uuid' } });
      expect(badUuid.status).toBe(400);
      const strangerOrg = auth.createOrg(auth.createUser({ email: 'o@example.test', password: 'x' }).sub, 'Stranger');
      const notMember = await call('PATCH', '/v1/client/switch-org', { token, body: { org_id: strangerOrg.org_id } });
      expect(notMember.status).toBe(400);
      expect(typeof notMember.body.detail).toBe('string');

      const own = await call('POST', '/v1/org', { token, body: { name: 'Mine' } });
      const other = await call('POST', '/v1/org', { token, body: { name: 'Mine too' } });
      const switched = await call('PATCH', '/v1/client/switch-org', { token, body: { org_id: other.body.org_id } });
      expect(switched.status).toBe(200);
      expect(switched.body).toEqual({ active_org_id: other.body.org_id });
      expect((await call('GET', '/v1/client/me', { token })).body.orgs).toEqual([
        { org_id: own.body.org_id, name: 'Mine', role: 'owner', is_owner: true },
        { org_id: other.body.org_id, name: 'Mine too', role: 'owner', is_owner: true },
      ]);
    });
  });

  describe('organisations', () => {
    it('creates (200), reads, and answers a bare text/plain 500 for a duplicate name', async () => {
      const { token } = await signUp();
      const created = await call('POST', '/v1/org', { token, body: { name: 'Acme' } });
      expect(created.status).toBe(200);
      expect(created.body).toEqual({ org_id: expect.stringMatching(UUID) });

      const dup = await call('POST', '/v1/org', { token, body: { name: 'Acme' } });
      expect(dup.status).toBe(500);
      expect(dup.headers['content-type']).toMatch(/^text\/plain/);
      expect(dup.text).toBe('Internal Server Error');

      const org = await call('GET', `/v1/org/${created.body.org_id}`, { token });
      expect(org.body).toEqual({ org_id: created.body.org_id, name: 'Acme', owner_id: decodeJwt(token).sub });
      expect((await call('GET', '/v1/org/7c0e1f4a-2b3c-4d5e-8f90-a1b2c3d4e5f6', { token })).status).toBe(404);
      expect((await call('POST', '/v1/org', { body: { name: 'x' } })).status).toBe(401);
    });

    it('invites (owner only), accepts, changes roles and removes members', async () => {
      const owner = await signUp();
      const member = await signUp();
      const memberId = decodeJwt(member.token).sub!;
      const orgId = (await call('POST', '/v1/org', { token: owner.token, body: { name: 'Team' } })).body.org_id;

      // Members are listed to anyone: the gateway has to check membership.
      const listedToStranger = await call('GET', `/v1/org/${orgId}/members`, { token: member.token });
      expect(listedToStranger.status).toBe(200);
      expect(listedToStranger.body).toEqual([
        { user_id: decodeJwt(owner.token).sub, email: owner.email, role: 'owner' },
      ]);

      const notOwner = await call('POST', `/v1/org/${orgId}/invite`, {
        token: member.token,
        body: { email: member.email, role: 'member' },
      });
      expect(notOwner.status).toBe(400);
      expect(notOwner.body).toEqual({ detail: 'Insufficient permissions' });
      const badRole = await call('POST', `/v1/org/${orgId}/invite`, {
        token: owner.token,
        body: { email: member.email, role: 'owner' },
      });
      expect(badRole.status).toBe(422);

      const invite = await call('POST', `/v1/org/${orgId}/invite`, {
        token: owner.token,
        body: { email: member.email, role: 'admin' },
      });
      expect(invite.status).toBe(200);
      expect(invite.body).toEqual({ invite_token: expect.any(String) });

      const unknown = await call('POST', '/v1/invite/accept', { token: member.token, body: { invite_token: 'nope' } });
      expect(unknown.status).toBe(404);
      const accepted = await call('POST', '/v1/invite/accept', {
        token: member.token,
        body: { invite_token: invite.body.invite_token },
      });
      expect(accepted.status).toBe(200);
      expect(accepted.body).toEqual({ org_id: orgId, role: 'admin' });
      const reused = await call('POST', '/v1/invite/accept', {
        token: member.token,
        body: { invite_token: invite.body.invite_token },
      });
      expect(reused.status).toBe(400);
      expect((await call('GET', '/v1/client/me', { token: member.token })).body.orgs).toEqual([
        { org_id: orgId, name: 'Team', role: 'admin', is_owner: false },
      ]);

      const memberPath = `/v1/org/${orgId}/member/${memberId}`;
      const roleByMember = await call('PATCH', `${memberPath}/role`, { token: member.token, body: { role: 'member' } });
      expect(roleByMember.status).toBe(400);
      expect(roleByMember.body).toEqual({ detail: 'Insufficient permissions' });
      const role = await call('PATCH', `${memberPath}/role`, { token: owner.token, body: { role: 'member' } });
      expect(role.status).toBe(200);
      expect(role.body).toEqual({ user_id: memberId, role: 'member' });

      const removeByMember = await call('DELETE', memberPath, { token: member.token });
      expect(removeByMember.body).toEqual({ detail: 'Insufficient permissions' });
      const removed = await call('DELETE', memberPath, { token: owner.token });
      expect(removed.status).toBe(204);
      const gone = await call('DELETE', memberPath, { token: owner.token });
      expect(gone.status).toBe(400);
      expect(gone.body).toEqual({ detail: 'Member not found' });
    });
  });

  describe('internal routes', () => {
    it('require X-Internal-Key (401) and answer 404 for unknown ids', async () => {
      const { email, token } = await signUp();
      const sub = decodeJwt(token).sub!;
      const orgId = (await call('POST', '/v1/org', { token, body: { name: 'Internal' } })).body.org_id;
      const key = { 'x-internal-key': 'gateway-secret-key-2024' };

      for (const path of [
        `/auth/user/${sub}`,
        `/auth/user/${sub}/orgs`,
        `/auth/org/${orgId}`,
        `/auth/org/${orgId}/members`,
      ]) {
        expect((await call('GET', path)).status).toBe(401);
        expect((await call('GET', path, { headers: { 'x-internal-key': 'wrong' } })).status).toBe(401);
        expect((await call('GET', path, { headers: key })).status).toBe(200);
      }
      expect((await call('GET', `/auth/user/${sub}`, { headers: key })).body).toEqual({
        sub,
        email,
        full_name: 'Ada Lovelace',
        created_at: expect.any(String),
      });
      expect((await call('GET', `/auth/user/${sub}/orgs`, { headers: key })).body).toEqual([
        { org_id: orgId, name: 'Internal', role: 'owner', is_owner: true },
      ]);
      expect((await call('GET', `/auth/org/${orgId}`, { headers: key })).body).toEqual({
        org_id: orgId,
        name: 'Internal',
        owner_id: sub,
      });
      expect((await call('GET', `/auth/org/${orgId}/members`, { headers: key })).body).toEqual([
        { user_id: sub, email, role: 'owner' },
      ]);
      const missingId = '0b7d4c1e-9a8f-4e6d-b5c4-a3f2e1d0c9b8';
      expect((await call('GET', `/auth/user/${missingId}`, { headers: key })).status).toBe(404);
      expect((await call('GET', `/auth/org/${missingId}/members`, { headers: key })).status).toBe(404);
    });
  });
});
