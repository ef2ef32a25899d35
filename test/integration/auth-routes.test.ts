import { Database } from '../../src/db/database';
import { call, startAuthStack, type AuthStack } from '../support/auth-gateway';
import { testConfig, waitFor } from '../support/stack';

jest.setTimeout(60_000);

const KEY = { 'x-internal-key': 'test-internal-key' };

describe('auth, organisation and internal routes against the auth-service fake', () => {
  let s: AuthStack;
  let db: Database;
  let owner: { sub: string; token: string; refresh: string };
  let member: { sub: string; token: string };
  let outsider: { sub: string; token: string };

  async function login(email: string, password: string) {
    const res = await call(s.gw.url, 'POST', '/v1/client/sign-in/password', { body: { email, password } });
    expect(res.status).toBe(200);
    return {
      sub: res.body.user.user_id as string,
      token: res.body.access_token as string,
      refresh: res.body.refresh_token as string,
      res,
    };
  }

  async function outboxEvents(type: string, since: Date) {
    return db.execute<{ topic: string; message_key: string; payload: any; headers: any }[]>(
      'select topic, message_key, payload, headers from outbox_events where event_type = $1 and created_at >= $2 order by id',
      [type, since],
    );
  }

  beforeAll(async () => {
    s = await startAuthStack({ RATE_LIMIT_AUTH_PER_ACCOUNT: '5', AUTH_BREAKER_COOLDOWN_MS: '300' });
    db = new Database(testConfig());
    s.fake.createUser({ email: 'owner@example.com', password: 'owner-pass-1', full_name: 'Olga Owner' });
    s.fake.createUser({ email: 'member@example.com', password: 'member-pass-1', full_name: 'Mia Member' });
    s.fake.createUser({ email: 'outsider@example.com', password: 'outsider-pass-1' });
    owner = await login('owner@example.com', 'owner-pass-1');
    member = await login('member@example.com', 'member-pass-1');
    outsider = await login('outsider@example.com', 'outsider-pass-1');
  });

  afterAll(async () => {
    await s.close();
    await db.close();
  });

  it('sign-in answers the token response with jwt, user and the gateway cookies, and records user_logged_in', async () => {
    const since = new Date(Date.now() - 1000);
    const { res, sub } = await login('OWNER@example.com', 'owner-pass-1');
    expect(res.body).toMatchObject({
      token_type: 'Bearer',
      expires_in: expect.any(Number),
      jwt: res.body.access_token,
    });
    expect(res.body.user).toEqual({
      user_id: sub,
      sub,
      email: 'owner@example.com',
      full_name: 'Olga Owner',
      orgs: [],
      active_org_id: null,
    });
    const cookies = ([] as string[]).concat(res.headers['set-cookie'] as string[]);
    expect(cookies.find((c) => c.startsWith('access_token='))).toMatch(
      /Path=\/;.*HttpOnly.*SameSite=Lax|HttpOnly.*Path=\//,
    );
    expect(cookies.find((c) => c.startsWith('refresh_token='))).toMatch(/Path=\/v1\/client/);
    // The upstream's own cookies are never passed through.
    expect(cookies.every((c) => c.startsWith('access_token=') || c.startsWith('refresh_token='))).toBe(true);
    const events = await waitFor('user_logged_in in the outbox', async () => {
      const rows = await outboxEvents('user_logged_in', since);
      return rows.find((r) => r.message_key === sub) ? rows : undefined;
    });
    const ev = events.find((r) => r.message_key === sub)!;
    expect(ev.topic).toBe('auth-events');
    expect(ev.payload).toMatchObject({
      event_type: 'user_logged_in',
      version: 1,
      source: 'api-gateway',
      data: { user_id: sub },
    });
    expect(ev.headers).toMatchObject({
      event_type: 'user_logged_in',
      event_id: ev.payload.event_id,
      request_id: ev.payload.request_id,
    });
    expect(JSON.stringify(ev.payload)).not.toContain('owner-pass-1');
  });

  it('sign-in with a wrong password is 401; a malformed body is 422; broken JSON is 400; another content type is 415', async () => {
    const wrong = await call(s.gw.url, 'POST', '/v1/client/sign-in/password', {
      body: { email: 'member@example.com', password: 'nope-nope' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ code: 'unauthorized', detail: 'Invalid credentials' });
    const invalid = await call(s.gw.url, 'POST', '/v1/client/sign-in/password', { body: { email: 'not-an-email' } });
    expect(invalid.status).toBe(422);
    expect(invalid.body.code).toBe('validation_error');
    expect(invalid.body.errors.map((e: { field: string }) => e.field)).toEqual(
      expect.arrayContaining(['email', 'password']),
    );
    const broken = await call(s.gw.url, 'POST', '/v1/client/sign-in/password', {
      raw: '{"email":',
      headers: { 'content-type': 'application/json' },
    });
    expect(broken.status).toBe(400);
    expect(broken.body.code).toBe('bad_request');
    const xml = await call(s.gw.url, 'POST', '/v1/client/sign-in/password', {
      raw: '<a/>',
      headers: { 'content-type': 'application/xml' },
    });
    expect(xml.status).toBe(415);
  });

  it('rate-limits sign-in per account with 429 and Retry-After', async () => {
    const answers = [];
    for (let i = 0; i < 7; i++) {
      answers.push(
        await call(s.gw.url, 'POST', '/v1/client/sign-in/password', {
          body: { email: 'ratelimited@example.com', password: 'whatever-1' },
        }),
      );
    }
    // The first five reach the upstream (401), the rest are limited at the gateway.
    expect(answers.slice(0, 5).map((a) => a.status)).toEqual([401, 401, 401, 401, 401]);
    const last = answers[6]!;
    expect(last.status).toBe(429);
    expect(last.body.code).toBe('rate_limited');
    expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('refreshes from the body or the cookie', async () => {
    const fromBody = await call(s.gw.url, 'POST', '/v1/client/refresh_token', {
      body: { refresh_token: owner.refresh },
    });
    expect(fromBody.status).toBe(200);
    expect(fromBody.body.jwt).toBe(fromBody.body.access_token);
    const fromCookie = await call(s.gw.url, 'POST', '/v1/client/refresh_token', {
      headers: { cookie: `refresh_token=${fromBody.body.refresh_token}` },
    });
    expect(fromCookie.status).toBe(200);
    const bad = await call(s.gw.url, 'POST', '/v1/client/refresh_token', { body: { refresh_token: 'not-a-session' } });
    expect(bad.status).toBe(401);
    owner.refresh = fromCookie.body.refresh_token;
  });

  it('GET /v1/client/me answers the user; update and change-password follow the contract', async () => {
    const me = await call(s.gw.url, 'GET', '/v1/client/me', { token: member.token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ user_id: member.sub, email: 'member@example.com' });
    const upd = await call(s.gw.url, 'PATCH', '/v1/client/update', {
      token: member.token,
      body: { full_name: 'Mia M.' },
    });
    expect(upd.status).toBe(200);
    expect(upd.body.full_name).toBe('Mia M.');
    const badOld = await call(s.gw.url, 'POST', '/v1/client/change-password', {
      token: member.token,
      body: { old_password: 'wrong-old-1', new_password: 'brand-new-1' },
    });
    expect(badOld.status).toBe(400);
    expect(badOld.body.detail).toBe('Invalid old password');
    const short = await call(s.gw.url, 'POST', '/v1/client/change-password', {
      token: member.token,
      body: { old_password: 'member-pass-1', new_password: 'short' },
    });
    expect(short.status).toBe(422);
  });

  let orgId: string;

  it('creates an organisation (201), and a duplicate name is 409', async () => {
    const res = await call(s.gw.url, 'POST', '/v1/org', {
      token: owner.token,
      body: { name: 'Acme Legal', extra: 'dropped' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ org_id: expect.any(String), name: 'Acme Legal' });
    orgId = res.body.org_id;
    const dup = await call(s.gw.url, 'POST', '/v1/org', { token: owner.token, body: { name: 'Acme Legal' } });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('conflict');
    expect(JSON.stringify(dup.body)).not.toContain('Internal Server Error');
  });

  it('lists members only for members (403 otherwise, 422 for a bad UUID)', async () => {
    const ok = await call(s.gw.url, 'GET', `/v1/org/${orgId}/members`, { token: owner.token });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual([{ user_id: owner.sub, email: 'owner@example.com', role: 'owner' }]);
    expect((await call(s.gw.url, 'GET', `/v1/org/${orgId}/members`, { token: outsider.token })).status).toBe(403);
    expect((await call(s.gw.url, 'GET', '/v1/org/not-a-uuid/members', { token: owner.token })).status).toBe(422);
  });

  it('switch-org: 403 when not a member, 200 when a member', async () => {
    expect(
      (await call(s.gw.url, 'PATCH', '/v1/client/switch-org', { token: outsider.token, body: { org_id: orgId } }))
        .status,
    ).toBe(403);
    const res = await call(s.gw.url, 'PATCH', '/v1/client/switch-org', { token: owner.token, body: { org_id: orgId } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ active_org_id: orgId });
  });

  it('role changes: admin/member only (422 otherwise), owner only upstream (403), 404 for a non-member', async () => {
    const org = s.fake.createOrg(owner.sub, 'Seeded Org', { [member.sub]: 'member' });
    expect(
      (
        await call(s.gw.url, 'PATCH', `/v1/org/${org.org_id}/member/${member.sub}/role`, {
          token: owner.token,
          body: { role: 'owner' },
        })
      ).status,
    ).toBe(422);
    const ok = await call(s.gw.url, 'PATCH', `/v1/org/${org.org_id}/member/${member.sub}/role`, {
      token: owner.token,
      body: { role: 'admin' },
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ user_id: member.sub, role: 'admin' });
    const forbidden = await call(s.gw.url, 'PATCH', `/v1/org/${org.org_id}/member/${owner.sub}/role`, {
      token: member.token,
      body: { role: 'member' },
    });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.detail).toBe('Insufficient permissions');
    const missing = await call(s.gw.url, 'DELETE', `/v1/org/${org.org_id}/member/${outsider.sub}`, {
      token: owner.token,
    });
    expect(missing.status).toBe(404);
    const removed = await call(s.gw.url, 'DELETE', `/v1/org/${org.org_id}/member/${member.sub}`, {
      token: owner.token,
    });
    expect(removed.status).toBe(204);
  });

  it('a GET survives one upstream 500 by retrying; persistent 5xx text is never forwarded; a down upstream is 503', async () => {
    s.fake.failNext(1, 500, { match: { path: '/v1/client/me' } });
    expect((await call(s.gw.url, 'GET', '/v1/client/me', { token: member.token })).status).toBe(200);
    s.fake.failNext(3, 500, { match: { path: '/v1/client/me' } });
    const res = await call(s.gw.url, 'GET', '/v1/client/me', { token: member.token });
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ code: 'upstream_error', detail: 'Auth service error' });
    await s.fake.setDown(true, 'refuse');
    try {
      const down = await call(s.gw.url, 'GET', '/v1/client/me', { token: member.token });
      expect(down.status).toBe(503);
      expect(down.body.code).toBe('upstream_unavailable');
      // The breaker is open now: the next call fails at once, without touching the upstream.
      s.fake.clearCalls();
      const fast = await call(s.gw.url, 'GET', '/v1/client/me', { token: member.token });
      expect(fast.status).toBe(503);
      expect(fast.headers['retry-after']).toBeDefined();
    } finally {
      await s.fake.setDown(false);
    }
    await new Promise((r) => setTimeout(r, 350)); // breaker cooldown: one trial call closes it again
    expect((await call(s.gw.url, 'GET', '/v1/client/me', { token: member.token })).status).toBe(200);
  });

  it('internal routes refuse a missing or wrong key with 401', async () => {
    expect((await call(s.gw.url, 'GET', `/auth/user/${owner.sub}`)).status).toBe(401);
    expect(
      (await call(s.gw.url, 'GET', `/auth/user/${owner.sub}`, { headers: { 'x-internal-key': 'wrong' } })).status,
    ).toBe(401);
  });

  it('internal routes proxy users, orgs and members', async () => {
    const user = await call(s.gw.url, 'GET', `/auth/user/${owner.sub}`, { headers: KEY });
    expect(user.status).toBe(200);
    expect(user.body).toMatchObject({ sub: owner.sub, email: 'owner@example.com' });
    const orgs = await call(s.gw.url, 'GET', `/auth/user/${owner.sub}/orgs`, { headers: KEY });
    expect(orgs.body).toEqual(
      expect.arrayContaining([expect.objectContaining({ org_id: orgId, role: 'owner', is_owner: true })]),
    );
    const org = await call(s.gw.url, 'GET', `/auth/org/${orgId}`, { headers: KEY });
    expect(org.body).toEqual({ org_id: orgId, name: 'Acme Legal', owner_id: owner.sub });
    const members = await call(s.gw.url, 'GET', `/auth/org/${orgId}/members`, { headers: KEY });
    expect(members.body).toEqual([{ user_id: owner.sub, email: 'owner@example.com', role: 'owner' }]);
    const missing = await call(s.gw.url, 'GET', '/auth/user/00000000-0000-4000-8000-000000000000', { headers: KEY });
    expect(missing.status).toBe(404);
  });

  it('/auth/validate answers both shapes, from the header or the query, without calling the auth service', async () => {
    s.fake.clearCalls();
    const ok = await call(s.gw.url, 'GET', '/auth/validate', {
      headers: { ...KEY, authorization: `Bearer ${member.token}` },
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      valid: true,
      sub: member.sub,
      email: 'member@example.com',
      exp: expect.any(Number),
      roles: expect.any(Array),
    });
    const q = await call(s.gw.url, 'GET', `/auth/validate?token=${encodeURIComponent(await s.fake.forge.expired())}`, {
      headers: KEY,
    });
    expect(q.body).toEqual({ valid: false, reason: 'expired' });
    expect(s.fake.calls.filter((c) => !c.path.endsWith('/certs'))).toEqual([]);
  });

  it('logout answers 204, clears both cookies and records user_logged_out', async () => {
    const since = new Date(Date.now() - 1000);
    const res = await call(s.gw.url, 'POST', '/v1/client/logout', {
      token: owner.token,
      body: { refresh_token: owner.refresh },
    });
    expect(res.status).toBe(204);
    const cookies = ([] as string[]).concat(res.headers['set-cookie'] as string[]);
    expect(cookies.some((c) => /^access_token=;/.test(c) && /Expires=Thu, 01 Jan 1970/.test(c))).toBe(true);
    expect(cookies.some((c) => /^refresh_token=;/.test(c))).toBe(true);
    const rows = await waitFor('user_logged_out', async () => {
      const r = await outboxEvents('user_logged_out', since);
      return r.length ? r : undefined;
    });
    expect(rows[0]!.message_key).toBe(owner.sub);
  });
});

describe('auth-service deadline', () => {
  it('a call slower than AUTH_SERVICE_TIMEOUT_MS answers 504 upstream_timeout at the deadline', async () => {
    const s = await startAuthStack({ AUTH_SERVICE_TIMEOUT_MS: '400', AUTH_SERVICE_RETRIES: '0' });
    try {
      s.fake.createUser({ email: 'slow@example.com', password: 'slow-pass-1' });
      const signIn = await call(s.gw.url, 'POST', '/v1/client/sign-in/password', {
        body: { email: 'slow@example.com', password: 'slow-pass-1' },
      });
      expect(signIn.status).toBe(200);
      s.fake.setDelay(3_000, { path: '/v1/client/me' });
      const started = Date.now();
      const res = await call(s.gw.url, 'GET', '/v1/client/me', { token: signIn.body.access_token });
      const took = Date.now() - started;
      expect(res.status).toBe(504);
      expect(res.body).toMatchObject({ code: 'upstream_timeout', detail: 'Auth service timed out' });
      expect(took).toBeGreaterThanOrEqual(390);
      expect(took).toBeLessThan(2_500); // well before the upstream would have answered
      s.fake.setDelay(0);
      expect((await call(s.gw.url, 'GET', '/v1/client/me', { token: signIn.body.access_token })).status).toBe(200);
    } finally {
      await s.close();
    }
  });
});
