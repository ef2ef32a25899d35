import { startAuthStack, call, type AuthStack } from '../support/auth-gateway';
import { startGateway } from '../support/gateway';
import { testConfig } from '../support/stack';

jest.setTimeout(60_000);

describe('edge token verification (JWKS from the auth-service fake)', () => {
  let s: AuthStack;
  let userToken: string;

  beforeAll(async () => {
    s = await startAuthStack({ AUTH_JWKS_REFRESH_FLOOR_MS: '300' });
    const user = s.fake.createUser({ email: 'verify@example.com', password: 'correct-horse-1', full_name: 'Vera' });
    userToken = (await s.fake.issueTokens(user.sub)).access_token;
    // Warm the JWKS cache once.
    expect((await call(s.gw.url, 'GET', '/v1/client/me', { token: userToken })).status).toBe(200);
  });

  afterAll(async () => {
    await s.close();
  });

  it.each([
    ['tampered', () => s.fake.forge.tampered()],
    ['expired', () => s.fake.forge.expired()],
    ['not yet valid', () => s.fake.forge.notYetValid()],
    ['wrong issuer', () => s.fake.forge.wrongIssuer()],
    ['alg none', () => s.fake.forge.algNone()],
    ['HS256 with the public key', () => s.fake.forge.hs256WithPublicKey()],
    ['wrong key under the current kid', () => s.fake.forge.wrongKey()],
    ['malformed', () => Promise.resolve(s.fake.forge.malformed())],
  ])('refuses a %s token with 401 and no upstream call', async (_name, make) => {
    const token = await make();
    s.fake.clearCalls();
    const res = await call(s.gw.url, 'GET', '/v1/client/me', { token });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('unauthorized');
    expect(typeof res.body.detail).toBe('string');
    expect(s.fake.calls).toEqual([]);
  });

  it('refuses unknown-kid tokens, refetching the JWKS at most once per floor and never calling the API', async () => {
    await new Promise((r) => setTimeout(r, 350));
    s.fake.clearCalls();
    for (let i = 0; i < 10; i++) {
      const res = await call(s.gw.url, 'GET', '/v1/client/me', { token: await s.fake.forge.unknownKid() });
      expect(res.status).toBe(401);
    }
    const paths = s.fake.calls.map((c) => c.path);
    expect(paths.every((p) => p.endsWith('/protocol/openid-connect/certs'))).toBe(true);
    expect(paths.length).toBeLessThanOrEqual(1);
  });

  it('picks up a rotated key without a restart', async () => {
    await s.fake.rotateKey();
    const user = s.fake.createUser({ email: 'rotated@example.com', password: 'correct-horse-2' });
    const token = (await s.fake.issueTokens(user.sub)).access_token;
    await new Promise((r) => setTimeout(r, 350)); // past the refetch floor
    const res = await call(s.gw.url, 'GET', '/v1/client/me', { token });
    expect(res.status).toBe(200);
    expect(res.body.email).toBe('rotated@example.com');
  });

  it('refuses a remembered token once it expires (past the 5 s clock tolerance), without asking upstream', async () => {
    const user = s.fake.createUser({ email: 'short-lived@example.com', password: 'correct-horse-4' });
    const token = await s.fake.signToken({ sub: user.sub, email: user.email, exp: Math.floor(Date.now() / 1000) + 1 });
    const validate = () =>
      call(s.gw.url, 'GET', '/auth/validate', {
        headers: { 'x-internal-key': 'test-internal-key', authorization: `Bearer ${token}` },
      });
    expect((await validate()).body.valid).toBe(true);
    expect((await validate()).body.valid).toBe(true); // from the cache
    await new Promise((r) => setTimeout(r, 7000));
    expect((await validate()).body).toEqual({ valid: false, reason: 'expired' });
  });

  it('refuses a request without a token, and accepts the access_token cookie', async () => {
    expect((await call(s.gw.url, 'GET', '/v1/client/me')).status).toBe(401);
    const res = await call(s.gw.url, 'GET', '/v1/client/me', { headers: { cookie: `access_token=${userToken}` } });
    expect(res.status).toBe(200);
  });

  it('after logout, a second gateway instance refuses the old access token at once', async () => {
    const second = await s.replica();
    try {
      const user = await s.user('logout');
      expect((await call(second.url, 'GET', '/v1/client/me', { token: user.token })).status).toBe(200);
      const out = await call(s.gw.url, 'POST', '/v1/client/logout', {
        token: user.token,
        body: { refresh_token: user.refresh },
      });
      expect(out.status).toBe(204);
      const after = await call(second.url, 'GET', '/v1/client/me', { token: user.token });
      expect(after.status).toBe(401);
      expect(after.body.detail).toBe('Token has been revoked');
      // The first instance too, and other users are unaffected.
      expect((await call(s.gw.url, 'GET', '/v1/client/me', { token: user.token })).status).toBe(401);
      expect((await call(second.url, 'GET', '/v1/client/me', { token: userToken })).status).toBe(200);
    } finally {
      await second.close();
    }
  });

  it('falls back to the auth service when no JWKS is configured, caching the answer', async () => {
    const upstreamMode = await startGateway(testConfig({ AUTH_SERVICE_URL: s.fake.url, AUTH_JWKS_URL: '' }));
    try {
      s.fake.clearCalls();
      for (let i = 0; i < 3; i++)
        expect((await call(upstreamMode.url, 'GET', '/v1/client/me', { token: userToken })).status).toBe(200);
      expect(s.fake.calls.filter((c) => c.path === '/v1/client/validate')).toHaveLength(1);
      expect(
        (await call(upstreamMode.url, 'GET', '/v1/client/me', { token: await s.fake.forge.wrongKey() })).status,
      ).toBe(401);
    } finally {
      await upstreamMode.close();
    }
  });
});
