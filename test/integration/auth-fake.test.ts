import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import { Agent, request } from 'undici';
import { startAuthFake, type AuthFake } from '../support/auth-fake';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

describe('auth service fake', () => {
  let auth: AuthFake;
  // A dispatcher of our own, so connections cut by setDown('refuse') never linger in a shared pool.
  const dispatcher = new Agent({ keepAliveTimeout: 1000 });

  beforeAll(async () => {
    auth = await startAuthFake();
  });
  afterEach(async () => {
    await auth.reset();
  });
  afterAll(async () => {
    await auth.close();
    await dispatcher.close();
  });

  async function call(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    options: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string>; base?: string } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const res = await request(`${options.base ?? auth.url}${path}`, { method, headers, body, dispatcher });
    const text = await res.body.text();
    const json = String(res.headers['content-type']).startsWith('application/json') ? JSON.parse(text) : undefined;
    return { status: res.statusCode, headers: res.headers, text, json };
  }

  async function signUp(email = `u${Math.random().toString(36).slice(2, 10)}@example.test`, password = 'password-1') {
    const res = await call('POST', '/v1/client/sign-up', { body: { email, password, full_name: 'Ada Lovelace' } });
    expect(res.status).toBe(201);
    return { email, password, token: res.json.access_token as string, refresh: res.json.refresh_token as string };
  }

  describe('tokens and keys', () => {
    it('issues RS256 Keycloak-shaped access tokens that verify against the served JWKS', async () => {
      const { email, token } = await signUp('Ada@Example.test');
      const jwks = createRemoteJWKSet(new URL(auth.jwksUrl));
      const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: auth.issuer, algorithms: ['RS256'] });

      expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'JWT', kid: auth.currentKid });
      expect(auth.issuer).toBe(`${auth.url}/realms/auth-service`);
      expect(payload).toMatchObject({
        iss: auth.issuer,
        azp: 'auth-service',
        typ: 'Bearer',
        email: email.toLowerCase(),
        name: 'Ada Lovelace',
        preferred_username: email.toLowerCase(),
        realm_access: { roles: expect.arrayContaining(['offline_access']) },
      });
      expect(payload.sub).toMatch(UUID);
      expect(payload.exp! - payload.iat!).toBe(300);
      expect(payload.nbf).toBe(payload.iat);
    });

    it('serves discovery with an absolute jwks_uri, and lists an encryption key a verifier must skip', async () => {
      const discovery = await call('GET', '/realms/auth-service/.well-known/openid-configuration');
      expect(discovery.status).toBe(200);
      expect(discovery.json).toMatchObject({ issuer: auth.issuer, jwks_uri: auth.jwksUrl });

      const jwks = await call('GET', '/realms/auth-service/protocol/openid-connect/certs');
      expect(jwks.json.keys).toEqual([
        expect.objectContaining({ kid: auth.currentKid, kty: 'RSA', alg: 'RS256', use: 'sig' }),
        expect.objectContaining({ kty: 'RSA', alg: 'RSA-OAEP', use: 'enc' }),
      ]);
    });

    it('rotates keys: new tokens carry the new kid, both keys are served until the old ones are dropped', async () => {
      const oldKid = auth.currentKid;
      const before = await auth.signToken();
      const newKid = await auth.rotateKey();
      const after = await auth.signToken();

      expect(newKid).not.toBe(oldKid);
      expect(decodeProtectedHeader(after).kid).toBe(newKid);
      const served = (await call('GET', '/realms/auth-service/protocol/openid-connect/certs')).json.keys as {
        kid: string;
        use: string;
      }[];
      expect(served.filter((k) => k.use === 'sig').map((k) => k.kid)).toEqual([oldKid, newKid]);
      const jwks = createRemoteJWKSet(new URL(auth.jwksUrl));
      for (const [token, kid] of [
        [before, oldKid],
        [after, newKid],
      ] as const) {
        const verified = await jwtVerify(token, jwks, { issuer: auth.issuer });
        expect(verified.protectedHeader.kid).toBe(kid);
        expect(verified.payload.sub).toBe(decodeJwt(token).sub);
      }
      expect((await call('GET', '/v1/client/me', { token: before })).status).toBe(200);

      expect(auth.dropOldKeys()).toBe(1);
      expect((await call('GET', '/v1/client/me', { token: before })).status).toBe(401);
      expect((await call('GET', '/v1/client/me', { token: after })).status).toBe(200);
    });

    it('forges tokens that fail verification for the stated reason', async () => {
      const jwks = createRemoteJWKSet(new URL(auth.jwksUrl));
      const verify = (token: string) => jwtVerify(token, jwks, { issuer: auth.issuer, algorithms: ['RS256'] });

      await expect(verify(await auth.forge.expired())).rejects.toBeInstanceOf(joseErrors.JWTExpired);
      await expect(verify(await auth.forge.notYetValid())).rejects.toMatchObject({ claim: 'nbf' });
      await expect(verify(await auth.forge.wrongIssuer())).rejects.toMatchObject({ claim: 'iss' });
      await expect(verify(await auth.forge.tampered())).rejects.toBeInstanceOf(
        joseErrors.JWSSignatureVerificationFailed,
      );
      await expect(verify(await auth.forge.wrongKey())).rejects.toBeInstanceOf(
        joseErrors.JWSSignatureVerificationFailed,
      );
      await expect(verify(await auth.forge.unknownKid())).rejects.toBeInstanceOf(joseErrors.JWKSNoMatchingKey);
      await expect(verify(await auth.forge.algNone())).rejects.toThrow();
      await expect(verify(await auth.forge.hs256WithPublicKey())).rejects.toThrow();
      await expect(verify(auth.forge.malformed())).rejects.toThrow();

      const none = await auth.forge.algNone();
      expect(decodeProtectedHeader(none)).toMatchObject({ alg: 'none', kid: auth.currentKid });
      expect(none.endsWith('.')).toBe(true);
      expect(decodeProtectedHeader(await auth.forge.hs256WithPublicKey())).toMatchObject({
        alg: 'HS256',
        kid: auth.currentKid,
      });
      expect(decodeProtectedHeader(await auth.forge.withoutKid()).kid).toBeUndefined();

      // The service itself rejects every one of them.
      const forged = await Promise.all([
        auth.forge.expired(),
        auth.forge.notYetValid(),
        auth.forge.wrongIssuer(),
        auth.forge.tampered(),
        auth.forge.wrongKey(),
        auth.forge.unknownKid(),
        auth.forge.algNone(),
        auth.forge.hs256WithPublicKey(),
      ]);
      for (const token of forged) {
        const res = await call('GET', '/v1/client/me', { token });
        expect(res.status).toBe(401);
      }
    });

    it('signs arbitrary claims: overrides win, undefined removes a claim, raw signs exactly', async () => {
      const sub = '3f1c2a5e-8d4b-4c7a-9e2f-1a2b3c4d5e6f';
      const token = await auth.signToken({ sub, email: 'x@example.test', realm_access: { roles: ['admin'] } });
      expect(decodeJwt(token)).toMatchObject({ sub, email: 'x@example.test', realm_access: { roles: ['admin'] } });
      expect(decodeJwt(await auth.signToken({ exp: undefined })).exp).toBeUndefined();
      expect(decodeJwt(await auth.signToken({ hello: 'world' }, { raw: true }))).toEqual({ hello: 'world' });

      // A validly signed token for a user the service has not seen: it is known from its claims.
      const me = await call('GET', '/v1/client/me', { token });
      expect(me.json).toEqual({ sub, email: 'x@example.test', full_name: '', orgs: [], active_org_id: null });
    });

    it('honours a configured issuer and token lifetime', async () => {
      const other = await startAuthFake({ issuer: 'http://keycloak:8080/realms/auth-service', accessTokenTtlSec: 60 });
      try {
        expect(other.jwksUrl).toBe(`${other.url}/realms/auth-service/protocol/openid-connect/certs`);
        const res = await call('POST', '/v1/client/sign-up', {
          base: other.url,
          body: { email: 'ttl@example.test', password: 'pw', full_name: '' },
        });
        expect(res.json.expires_in).toBe(60);
        const { payload } = await jwtVerify(res.json.access_token, createRemoteJWKSet(new URL(other.jwksUrl)), {
          issuer: 'http://keycloak:8080/realms/auth-service',
        });
        expect(payload.exp! - payload.iat!).toBe(60);
      } finally {
        await other.close();
      }
    });
  });

  describe('client routes', () => {
    it('signs up (201, own cookies), refuses a taken e-mail (400) and invalid bodies (422)', async () => {
      const res = await call('POST', '/v1/client/sign-up', {
        body: { email: 'new@example.test', password: 'password-1', full_name: '' },
      });
      expect(res.status).toBe(201);
      expect(res.json).toEqual({
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
      expect(taken.json).toEqual({ detail: 'User with this email already exists' });

      const missing = await call('POST', '/v1/client/sign-up', { body: { email: 'a@example.test', password: 'x' } });
      expect(missing.status).toBe(422);
      expect(missing.json.detail).toEqual([expect.objectContaining({ loc: ['body', 'full_name'], type: 'missing' })]);

      const badEmail = await call('POST', '/v1/client/sign-up', {
        body: { email: 'nope', password: 'x', full_name: 'x' },
      });
      expect(badEmail.status).toBe(422);
      expect(badEmail.json.detail[0]).toMatchObject({ loc: ['body', 'email'], type: 'value_error' });

      const notJson = await call('POST', '/v1/client/sign-up', {
        rawBody: '{oops',
        headers: { 'content-type': 'application/json' },
      });
      expect(notJson.status).toBe(422);
      expect(notJson.json.detail[0]).toMatchObject({ type: 'json_invalid' });
      expect((await call('POST', '/v1/client/sign-up')).status).toBe(422);
    });

    it('signs in (200) and answers 401 Invalid credentials otherwise, including while Keycloak is down', async () => {
      const { email, password } = await signUp();
      const ok = await call('POST', '/v1/client/sign-in/password', { body: { email, password } });
      expect(ok.status).toBe(200);
      expect(ok.json.token_type).toBe('Bearer');
      expect(ok.headers['set-cookie']).toHaveLength(2);

      for (const body of [
        { email, password: 'wrong' },
        { email: 'nobody@example.test', password },
      ]) {
        const res = await call('POST', '/v1/client/sign-in/password', { body });
        expect(res.status).toBe(401);
        expect(res.json).toEqual({ detail: 'Invalid credentials' });
      }
      auth.setKeycloakDown(true);
      expect((await call('POST', '/v1/client/sign-in/password', { body: { email, password } })).status).toBe(401);
    });

    it('refreshes, logs out (204) and keeps the access token valid until it expires', async () => {
      const { token, refresh } = await signUp();
      const refreshed = await call('POST', '/v1/client/refresh_token', { body: { refresh_token: refresh } });
      expect(refreshed.status).toBe(200);
      expect(refreshed.json.refresh_token).not.toBe(refresh);
      expect((await call('POST', '/v1/client/refresh_token', { body: { refresh_token: 'nope' } })).status).toBe(401);

      expect((await call('POST', '/v1/client/logout', { body: { refresh_token: refresh } })).status).toBe(204);
      const afterLogout = await call('POST', '/v1/client/refresh_token', {
        body: { refresh_token: refreshed.json.refresh_token },
      });
      expect(afterLogout.status).toBe(401);
      const again = await call('POST', '/v1/client/logout', { body: { refresh_token: refresh } });
      expect(again.status).toBe(400);
      expect(typeof again.json.detail).toBe('string');

      expect((await call('GET', '/v1/client/me', { token })).status).toBe(200);
      const valid = await call('GET', `/v1/client/validate?token=${token}`);
      expect(valid.json).toEqual({ valid: true, sub: decodeJwt(token).sub, exp: decodeJwt(token).exp });
    });

    it('validates tokens: nulls when invalid, 422 without the parameter', async () => {
      const invalid = await call('GET', `/v1/client/validate?token=${await auth.forge.expired()}`);
      expect(invalid.status).toBe(200);
      expect(invalid.json).toEqual({ valid: false, sub: null, exp: null });
      const missing = await call('GET', '/v1/client/validate');
      expect(missing.status).toBe(422);
      expect(missing.json.detail[0]).toMatchObject({ loc: ['query', 'token'], type: 'missing' });
    });

    it('serves /me, update, change-password and switch-org with their errors', async () => {
      const { email, password, token } = await signUp();
      expect((await call('GET', '/v1/client/me')).status).toBe(401);
      expect((await call('GET', '/v1/client/me', { token: 'garbage' })).status).toBe(401);

      const me = await call('GET', '/v1/client/me', { token });
      expect(me.json).toEqual({
        sub: decodeJwt(token).sub,
        email,
        full_name: 'Ada Lovelace',
        orgs: [],
        active_org_id: null,
      });

      const updated = await call('PATCH', '/v1/client/update', { token, body: { full_name: 'Ada King' } });
      expect(updated.status).toBe(200);
      expect(updated.json.full_name).toBe('Ada King');
      expect((await call('PATCH', '/v1/client/update', { token, body: {} })).status).toBe(422);

      const wrongOld = await call('POST', '/v1/client/change-password', {
        token,
        body: { old_password: 'wrong', new_password: 'new-password' },
      });
      expect(wrongOld.status).toBe(400);
      expect(wrongOld.json).toEqual({ detail: 'Invalid old password' });
      const changed = await call('POST', '/v1/client/change-password', {
        token,
        body: { old_password: password, new_password: 'new-password' },
      });
      expect(changed.status).toBe(200);
      expect(typeof changed.json.message).toBe('string');
      expect(
        (await call('POST', '/v1/client/sign-in/password', { body: { email, password: 'new-password' } })).status,
      ).toBe(200);

      const badUuid = await call('PATCH', '/v1/client/switch-org', { token, body: { org_id: 'not-a-uuid' } });
      expect(badUuid.status).toBe(400);
      const strangerOrg = auth.createOrg(auth.createUser({ email: 'o@example.test', password: 'x' }).sub, 'Stranger');
      const notMember = await call('PATCH', '/v1/client/switch-org', { token, body: { org_id: strangerOrg.org_id } });
      expect(notMember.status).toBe(400);
      expect(typeof notMember.json.detail).toBe('string');

      const own = await call('POST', '/v1/org', { token, body: { name: 'Mine' } });
      const other = await call('POST', '/v1/org', { token, body: { name: 'Mine too' } });
      const switched = await call('PATCH', '/v1/client/switch-org', { token, body: { org_id: other.json.org_id } });
      expect(switched.status).toBe(200);
      expect(switched.json).toEqual({ active_org_id: other.json.org_id });
      expect((await call('GET', '/v1/client/me', { token })).json.orgs).toEqual([
        { org_id: own.json.org_id, name: 'Mine', role: 'owner', is_owner: true },
        { org_id: other.json.org_id, name: 'Mine too', role: 'owner', is_owner: true },
      ]);
    });
  });

  describe('organisations', () => {
    it('creates (200), reads, and answers a bare text/plain 500 for a duplicate name', async () => {
      const { token } = await signUp();
      const created = await call('POST', '/v1/org', { token, body: { name: 'Acme' } });
      expect(created.status).toBe(200);
      expect(created.json).toEqual({ org_id: expect.stringMatching(UUID) });

      const dup = await call('POST', '/v1/org', { token, body: { name: 'Acme' } });
      expect(dup.status).toBe(500);
      expect(dup.headers['content-type']).toMatch(/^text\/plain/);
      expect(dup.text).toBe('Internal Server Error');

      const org = await call('GET', `/v1/org/${created.json.org_id}`, { token });
      expect(org.json).toEqual({ org_id: created.json.org_id, name: 'Acme', owner_id: decodeJwt(token).sub });
      expect((await call('GET', '/v1/org/7c0e1f4a-2b3c-4d5e-8f90-a1b2c3d4e5f6', { token })).status).toBe(404);
      expect((await call('POST', '/v1/org', { body: { name: 'x' } })).status).toBe(401);
    });

    it('invites (owner only), accepts, changes roles and removes members', async () => {
      const owner = await signUp();
      const member = await signUp();
      const memberId = decodeJwt(member.token).sub!;
      const orgId = (await call('POST', '/v1/org', { token: owner.token, body: { name: 'Team' } })).json.org_id;

      // Members are listed to anyone: the gateway has to check membership.
      const listedToStranger = await call('GET', `/v1/org/${orgId}/members`, { token: member.token });
      expect(listedToStranger.status).toBe(200);
      expect(listedToStranger.json).toEqual([
        { user_id: decodeJwt(owner.token).sub, email: owner.email, role: 'owner' },
      ]);

      const notOwner = await call('POST', `/v1/org/${orgId}/invite`, {
        token: member.token,
        body: { email: member.email, role: 'member' },
      });
      expect(notOwner.status).toBe(400);
      expect(notOwner.json).toEqual({ detail: 'Insufficient permissions' });
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
      expect(invite.json).toEqual({ invite_token: expect.any(String) });

      const unknown = await call('POST', '/v1/invite/accept', { token: member.token, body: { invite_token: 'nope' } });
      expect(unknown.status).toBe(404);
      const accepted = await call('POST', '/v1/invite/accept', {
        token: member.token,
        body: { invite_token: invite.json.invite_token },
      });
      expect(accepted.status).toBe(200);
      expect(accepted.json).toEqual({ org_id: orgId, role: 'admin' });
      const reused = await call('POST', '/v1/invite/accept', {
        token: member.token,
        body: { invite_token: invite.json.invite_token },
      });
      expect(reused.status).toBe(400);
      expect((await call('GET', '/v1/client/me', { token: member.token })).json.orgs).toEqual([
        { org_id: orgId, name: 'Team', role: 'admin', is_owner: false },
      ]);

      const memberPath = `/v1/org/${orgId}/member/${memberId}`;
      const roleByMember = await call('PATCH', `${memberPath}/role`, { token: member.token, body: { role: 'member' } });
      expect(roleByMember.status).toBe(400);
      expect(roleByMember.json).toEqual({ detail: 'Insufficient permissions' });
      const role = await call('PATCH', `${memberPath}/role`, { token: owner.token, body: { role: 'member' } });
      expect(role.status).toBe(200);
      expect(role.json).toEqual({ user_id: memberId, role: 'member' });

      const removeByMember = await call('DELETE', memberPath, { token: member.token });
      expect(removeByMember.json).toEqual({ detail: 'Insufficient permissions' });
      const removed = await call('DELETE', memberPath, { token: owner.token });
      expect(removed.status).toBe(204);
      const gone = await call('DELETE', memberPath, { token: owner.token });
      expect(gone.status).toBe(400);
      expect(gone.json).toEqual({ detail: 'Member not found' });
    });
  });

  describe('internal routes', () => {
    it('require X-Internal-Key (401) and answer 404 for unknown ids', async () => {
      const { email, token } = await signUp();
      const sub = decodeJwt(token).sub!;
      const orgId = (await call('POST', '/v1/org', { token, body: { name: 'Internal' } })).json.org_id;
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
      expect((await call('GET', `/auth/user/${sub}`, { headers: key })).json).toEqual({
        sub,
        email,
        full_name: 'Ada Lovelace',
        created_at: expect.any(String),
      });
      expect((await call('GET', `/auth/user/${sub}/orgs`, { headers: key })).json).toEqual([
        { org_id: orgId, name: 'Internal', role: 'owner', is_owner: true },
      ]);
      expect((await call('GET', `/auth/org/${orgId}`, { headers: key })).json).toEqual({
        org_id: orgId,
        name: 'Internal',
        owner_id: sub,
      });
      expect((await call('GET', `/auth/org/${orgId}/members`, { headers: key })).json).toEqual([
        { user_id: sub, email, role: 'owner' },
      ]);
      const missingId = '0b7d4c1e-9a8f-4e6d-b5c4-a3f2e1d0c9b8';
      expect((await call('GET', `/auth/user/${missingId}`, { headers: key })).status).toBe(404);
      expect((await call('GET', `/auth/org/${missingId}/members`, { headers: key })).status).toBe(404);
    });
  });

  describe('quirks', () => {
    it('answers a trailing slash with 307 to its own absolute URL without the slash', async () => {
      const res = await call('GET', '/health/?x=1');
      expect(res.status).toBe(307);
      expect(res.headers.location).toBe(`${auth.url}/health?x=1`);
      const post = await call('POST', '/v1/client/sign-in/password/', { body: {} });
      expect(post.status).toBe(307);
      expect(post.headers.location).toBe(`${auth.url}/v1/client/sign-in/password`);
      expect((await call('GET', '/nowhere/')).status).toBe(404);
    });

    it('duplicates the auth routes under /v1/auth and echoes its cookies at /v1/client/cookies', async () => {
      const { email, password } = await signUp();
      const viaAuth = await call('POST', '/v1/auth/sign-in/password', { body: { email, password } });
      expect(viaAuth.status).toBe(200);
      const echoed = await call('GET', '/v1/client/cookies', {
        headers: { cookie: `access_token=${viaAuth.json.access_token}; refresh_token=abc` },
      });
      expect(echoed.json).toEqual({ access_token: viaAuth.json.access_token, refresh_token: 'abc' });
      expect((await call('GET', '/docs')).status).toBe(200);
    });

    it('answers FastAPI-style 404 and 405', async () => {
      expect(await call('GET', '/v1/nothing')).toMatchObject({ status: 404, json: { detail: 'Not Found' } });
      const wrongMethod = await call('DELETE', '/health');
      expect(wrongMethod).toMatchObject({ status: 405, json: { detail: 'Method Not Allowed' } });
      expect(wrongMethod.headers.allow).toBe('GET, HEAD');
    });
  });

  describe('test switches', () => {
    it('logs every call with method, path and time', async () => {
      const t0 = Date.now();
      await call('GET', '/health?probe=1');
      expect(auth.calls).toEqual([
        expect.objectContaining({ method: 'GET', path: '/health', url: '/health?probe=1', status: 200 }),
      ]);
      expect(auth.calls[0]!.time).toBeGreaterThanOrEqual(t0);
      expect(auth.callsTo({ path: '/v1/client/me' })).toHaveLength(0);
    });

    it('fails the next n (matching) calls with text/plain, or cuts the connection', async () => {
      auth.failNext(2, 500);
      for (let i = 0; i < 2; i++) {
        const res = await call('GET', '/health');
        expect(res).toMatchObject({ status: 500, text: 'Internal Server Error' });
        expect(res.headers['content-type']).toMatch(/^text\/plain/);
      }
      expect((await call('GET', '/health')).status).toBe(200);

      auth.failNext(1, 502, { match: { path: '/v1/client/me' } });
      expect((await call('GET', '/health')).status).toBe(200);
      expect((await call('GET', '/v1/client/me')).status).toBe(502);

      auth.failNext(1, 'reset');
      await expect(call('GET', '/health')).rejects.toThrow();
      expect((await call('GET', '/health')).status).toBe(200);
    });

    it('delays answers', async () => {
      auth.setDelay(150, { path: '/health' });
      const started = Date.now();
      expect((await call('GET', '/health')).status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    });

    it('goes down answering 503, and comes back', async () => {
      await auth.setDown(true, '503');
      const res = await call('GET', '/health');
      expect(res).toMatchObject({ status: 503, text: 'Service Unavailable' });
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      await auth.setDown(false);
      expect((await call('GET', '/health')).status).toBe(200);
    });

    it('goes down refusing connections, and comes back on the same port', async () => {
      const url = auth.url;
      expect((await call('GET', '/health')).status).toBe(200);
      await auth.setDown(true, 'refuse');
      await expect(call('GET', '/health')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      await auth.setDown(false);
      expect(auth.url).toBe(url);
      expect((await call('GET', '/health')).status).toBe(200);
    });

    it('reset brings it back up and forgets users', async () => {
      await signUp('kept@example.test');
      auth.setKeycloakDown(true);
      await auth.setDown(true, 'refuse');
      await auth.reset();
      expect(auth.users.size).toBe(0);
      expect(auth.calls).toHaveLength(0);
      expect((await call('GET', '/health')).status).toBe(200);
    });
  });
});
