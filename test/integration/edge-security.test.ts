import { Client } from 'pg';
import { startAuthStack, call, type AuthStack, type Res } from '../support/auth-gateway';
import { testConfig, uniqueSuffix, waitFor } from '../support/stack';

jest.setTimeout(90_000);

const APP = 'http://app.example.test';
const EVIL = 'http://evil.example.test';

const corsHeaders = (res: Res) => Object.keys(res.headers).filter((h) => h.startsWith('access-control-allow-'));

describe('CORS and CSRF', () => {
  let s: AuthStack;
  let token: string;

  beforeAll(async () => {
    s = await startAuthStack({ CORS_ORIGINS: APP });
    const user = s.fake.createUser({ email: `csrf-${uniqueSuffix()}@example.com`, password: 'correct-horse-5' });
    token = (await s.fake.issueTokens(user.sub)).access_token;
  });

  afterAll(async () => {
    await s.close();
  });

  it('gives an origin outside CORS_ORIGINS no Access-Control-Allow-* header at all', async () => {
    const res = await call(s.gw.url, 'GET', '/health/live', { headers: { origin: EVIL } });
    expect(res.status).toBe(200);
    expect(corsHeaders(res)).toEqual([]);
    expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    const ok = await call(s.gw.url, 'GET', '/health/live', { headers: { origin: APP } });
    expect(ok.headers['access-control-allow-origin']).toBe(APP);
    expect(ok.headers['access-control-allow-credentials']).toBe('true');
    expect(ok.headers['access-control-expose-headers']).toBe('X-Request-Id, X-Total-Count, Location, Retry-After');
    // The answer depends on Origin, with or without one: shared caches must key on it.
    const none = await call(s.gw.url, 'GET', '/health/live');
    for (const r of [res, ok, none]) expect(r.headers.vary).toMatch(/\bOrigin\b/);
    expect(Object.keys(none.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });

  it('answers preflights in the error format when they are refused', async () => {
    const bare = await call(s.gw.url, 'OPTIONS', '/v1/client/me', { headers: { origin: APP } });
    expect(bare.status).toBe(400);
    expect(bare.body).toMatchObject({ code: 'bad_request', request_id: expect.any(String) });
    expect(bare.headers['x-request-id']).toBe(bare.body.request_id);
    const evil = await call(s.gw.url, 'OPTIONS', '/v1/client/me', {
      headers: { origin: EVIL, 'access-control-request-method': 'PATCH' },
    });
    expect(evil.status).toBe(403);
    expect(evil.body.code).toBe('forbidden');
    expect(corsHeaders(evil)).toEqual([]);
    const good = await call(s.gw.url, 'OPTIONS', '/v1/client/update', {
      headers: {
        origin: APP,
        'access-control-request-method': 'PATCH',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(good.status).toBe(204);
    expect(good.headers['access-control-allow-origin']).toBe(APP);
    expect(good.headers['access-control-allow-credentials']).toBe('true');
    expect(good.headers['access-control-allow-headers']).toBe('content-type');
    expect(good.headers['access-control-max-age']).toBe('600');
  });

  const update = (headers: Record<string, string>) =>
    call(s.gw.url, 'PATCH', '/v1/client/update', { headers, body: { full_name: 'Carla' } });

  it('refuses an unsafe request authenticated by the cookie alone from another origin', async () => {
    const cookie = `access_token=${token}`;
    const refused: Record<string, string>[] = [
      { cookie, origin: EVIL },
      { cookie },
      { cookie, 'sec-fetch-site': 'cross-site' },
    ];
    for (const headers of refused) {
      const res = await update(headers);
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ code: 'forbidden', detail: expect.any(String) });
    }
    s.fake.clearCalls();
    expect((await update({ cookie, origin: APP })).status).toBe(200);
    expect((await update({ cookie, 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    // A bearer token is not sent by browsers on their own: no CSRF check.
    expect((await update({ authorization: `Bearer ${token}`, origin: EVIL })).status).toBe(200);
    // Safe methods with the cookie stay allowed from anywhere.
    expect((await call(s.gw.url, 'GET', '/v1/client/me', { headers: { cookie, origin: EVIL } })).status).toBe(200);
  });
});

describe('per-account limit of change-password', () => {
  let s: AuthStack;

  beforeAll(async () => {
    s = await startAuthStack({ RATE_LIMIT_AUTH_PER_ACCOUNT: '2', RATE_LIMIT_AUTH_PER_IP: '1000' });
  });

  afterAll(async () => {
    await s.close();
  });

  it('is keyed by the authenticated user, so a fresh token per request does not reset it', async () => {
    const user = s.fake.createUser({ email: `limit-${uniqueSuffix()}@example.com`, password: 'correct-horse-6' });
    const change = async (sub: string) =>
      call(s.gw.url, 'POST', '/v1/client/change-password', {
        token: (await s.fake.issueTokens(sub)).access_token,
        body: { old_password: 'wrong-old-password', new_password: 'Another-horse-7' },
      });
    for (let i = 0; i < 2; i++) expect((await change(user.sub)).status).not.toBe(429);
    const limited = await change(user.sub);
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ code: 'rate_limited', request_id: expect.any(String) });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    const other = s.fake.createUser({ email: `other-${uniqueSuffix()}@example.com`, password: 'correct-horse-8' });
    expect((await change(other.sub)).status).not.toBe(429);
  });
});

describe.each([
  ['a hop count', '1'],
  ['a CIDR list', '10.0.0.0/8, 127.0.0.1/32'],
])('TRUST_PROXY as %s', (_name, trust) => {
  let s: AuthStack;

  beforeAll(async () => {
    s = await startAuthStack({ TRUST_PROXY: trust, RATE_LIMIT_AUTH_PER_IP: '3', RATE_LIMIT_AUTH_PER_ACCOUNT: '1000' });
  });

  afterAll(async () => {
    await s.close();
  });

  const signIn = (forwardedFor: string, email: string, password = 'wrong-password', requestId?: string) =>
    call(s.gw.url, 'POST', '/v1/client/sign-in/password', {
      headers: { 'x-forwarded-for': forwardedFor, ...(requestId ? { 'x-request-id': requestId } : {}) },
      body: { email, password },
    });

  it('a spoofed X-Forwarded-For entry does not reset the per-IP limit', async () => {
    // What a proxy forwards: the client's own (spoofed) header, then the address it saw.
    const statuses: number[] = [];
    for (let i = 1; i <= 4; i++) {
      statuses.push((await signIn(`198.51.100.${i}, 203.0.113.9`, `spoof-${i}-${uniqueSuffix()}@example.com`)).status);
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
    expect((await signIn('198.51.100.1, 203.0.113.10', `real-${uniqueSuffix()}@example.com`)).status).toBe(401);
  });

  it('a spoofed X-Forwarded-For entry does not forge actor.ip in the event', async () => {
    const email = `actor-${uniqueSuffix()}@example.com`;
    s.fake.createUser({ email, password: 'correct-horse-10' });
    const requestId = `actor-ip-${uniqueSuffix()}`;
    expect((await signIn('6.6.6.6, 203.0.113.11', email, 'correct-horse-10', requestId)).status).toBe(200);
    const db = new Client({ connectionString: testConfig().DATABASE_URL });
    await db.connect();
    try {
      const actor = await waitFor('the user_logged_in outbox row', async () => {
        const { rows } = await db.query<{ payload: { actor: { ip: string } } }>(
          "select payload from outbox_events where headers->>'request_id' = $1",
          [requestId],
        );
        return rows[0]?.payload.actor;
      });
      expect(actor.ip).toBe('203.0.113.11');
    } finally {
      await db.end();
    }
  });
});

describe('token verification while the issuer is unreachable', () => {
  let s: AuthStack;

  beforeAll(async () => {
    s = await startAuthStack({ AUTH_JWKS_REFRESH_FLOOR_MS: '300' });
  });

  afterAll(async () => {
    await s.fake.setDown(false);
    await s.close();
  });

  const validate = (token: string) =>
    call(s.gw.url, 'GET', '/auth/validate', {
      headers: { 'x-internal-key': 'test-internal-key', authorization: `Bearer ${token}` },
    });

  it('answers 503 for an unknown kid, keeps verifying known kids with the last good JWKS', async () => {
    expect((await validate(await s.fake.signToken())).body.valid).toBe(true); // JWKS fetched once
    expect((await validate(await s.fake.forge.unknownKid())).body).toMatchObject({ valid: false });
    await s.fake.setDown(true, 'refuse');
    await new Promise((r) => setTimeout(r, 350)); // past the refetch floor
    const unknown = await validate(await s.fake.forge.unknownKid());
    expect(unknown.status).toBe(503);
    expect(unknown.body).toMatchObject({ code: 'upstream_unavailable', detail: expect.any(String) });
    const me = await call(s.gw.url, 'GET', '/v1/client/me', { token: await s.fake.forge.unknownKid() });
    expect(me.status).toBe(503);
    expect(me.body.code).toBe('upstream_unavailable');
    // A token never seen before, signed by a key the gateway already knows.
    const known = await validate(await s.fake.signToken({ sub: `fresh-${uniqueSuffix()}` }));
    expect(known.status).toBe(200);
    expect(known.body.valid).toBe(true);
    await s.fake.setDown(false);
    await new Promise((r) => setTimeout(r, 350));
    expect((await validate(await s.fake.forge.unknownKid())).status).toBe(200); // {valid: false} again
  });
});
