import { startAuthStack, call, type AuthStack } from '../support/auth-gateway';

jest.setTimeout(60_000);

const plain = { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: '' };

describe('admin listener: codec with operator tokens (CODEC_AUTH=jwt)', () => {
  let s: AuthStack;
  let encrypted: unknown;

  beforeAll(async () => {
    s = await startAuthStack({ CODEC_AUTH: 'jwt', CODEC_OPERATOR_ROLE: 'temporal-operator' });
    const secret = { ...plain, data: Buffer.from('"operator-only-marker"').toString('base64') };
    const enc = await call(s.gw.adminUrl, 'POST', '/codec/encode', {
      headers: { 'x-internal-key': 'test-internal-key' },
      body: { payloads: [secret] },
    });
    expect(enc.status).toBe(200);
    encrypted = enc.body;
  });

  afterAll(async () => {
    await s.close();
  });

  const decode = (base: string, headers: Record<string, string>) =>
    call(base, 'POST', '/codec/decode', { headers, body: encrypted });

  it('serves no codec on the public port, even with a Temporal UI origin or an operator token', async () => {
    const origin = s.gw.app.config.TEMPORAL_UI_ORIGINS[0]!;
    const operator = await s.fake.signToken({ realm_access: { roles: ['temporal-operator'] } });
    const attempts: Record<string, string>[] = [{ origin }, { origin, authorization: `Bearer ${operator}` }];
    for (const headers of attempts) {
      const res = await decode(s.gw.url, headers);
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('not_found');
      expect(JSON.stringify(res.body)).not.toContain(Buffer.from('operator-only-marker').toString('base64'));
    }
  });

  it('refuses a forged Origin without a token with 401', async () => {
    const res = await decode(s.gw.adminUrl, { origin: s.gw.app.config.TEMPORAL_UI_ORIGINS[0]! });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'unauthorized', request_id: expect.any(String) });
  });

  it('refuses an invalid or expired operator token with 401', async () => {
    for (const token of [
      await s.fake.forge.wrongKey({ realm_access: { roles: ['temporal-operator'] } }),
      await s.fake.forge.expired({ realm_access: { roles: ['temporal-operator'] } }),
      await s.fake.forge.wrongIssuer({ realm_access: { roles: ['temporal-operator'] } }),
    ]) {
      const res = await decode(s.gw.adminUrl, { authorization: `Bearer ${token}` });
      expect(res.status).toBe(401);
    }
  });

  it('refuses a valid token without the operator role with 403', async () => {
    const user = s.fake.createUser({ email: 'not-an-operator@example.com', password: 'correct-horse-9' });
    const token = (await s.fake.issueTokens(user.sub)).access_token;
    const res = await decode(s.gw.adminUrl, { authorization: `Bearer ${token}` });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('forbidden');
  });

  it.each([
    ['realm role', { realm_access: { roles: ['temporal-operator'] } }],
    ['group', { groups: ['temporal-operator'] }],
  ])('decodes for an operator token (%s)', async (_name, claims) => {
    const token = await s.fake.signToken(claims);
    const res = await decode(s.gw.adminUrl, { authorization: `Bearer ${token}` });
    expect(res.status).toBe(200);
    const data = Buffer.from(res.body.payloads[0].data, 'base64').toString();
    expect(data).toBe('"operator-only-marker"');
  });
});
