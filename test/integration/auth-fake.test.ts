import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import { startAuthFake, type AuthFake } from '../support/auth-fake';
import { useAuthFake } from '../support/auth-gateway';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('auth service fake: tokens, keys, quirks and test switches', () => {
  const fx = useAuthFake();
  const { call, signUp } = fx;
  let auth: AuthFake;
  beforeAll(() => {
    auth = fx.fake;
  });

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
      expect(discovery.body).toMatchObject({ issuer: auth.issuer, jwks_uri: auth.jwksUrl });

      const jwks = await call('GET', '/realms/auth-service/protocol/openid-connect/certs');
      expect(jwks.body.keys).toEqual([
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
      const served = (await call('GET', '/realms/auth-service/protocol/openid-connect/certs')).body.keys as {
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
      expect(me.body).toEqual({ sub, email: 'x@example.test', full_name: '', orgs: [], active_org_id: null });
    });

    it('honours a configured issuer and token lifetime', async () => {
      const other = await startAuthFake({ issuer: 'http://keycloak:8080/realms/auth-service', accessTokenTtlSec: 60 });
      try {
        expect(other.jwksUrl).toBe(`${other.url}/realms/auth-service/protocol/openid-connect/certs`);
        const res = await call('POST', '/v1/client/sign-up', {
          base: other.url,
          body: { email: 'ttl@example.test', password: 'pw', full_name: '' },
        });
        expect(res.body.expires_in).toBe(60);
        const { payload } = await jwtVerify(res.body.access_token, createRemoteJWKSet(new URL(other.jwksUrl)), {
          issuer: 'http://keycloak:8080/realms/auth-service',
        });
        expect(payload.exp! - payload.iat!).toBe(60);
      } finally {
        await other.close();
      }
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
        headers: { cookie: `access_token=${viaAuth.body.access_token}; refresh_token=abc` },
      });
      expect(echoed.body).toEqual({ access_token: viaAuth.body.access_token, refresh_token: 'abc' });
      expect((await call('GET', '/docs')).status).toBe(200);
    });

    it('answers FastAPI-style 404 and 405', async () => {
      expect(await call('GET', '/v1/nothing')).toMatchObject({ status: 404, body: { detail: 'Not Found' } });
      const wrongMethod = await call('DELETE', '/health');
      expect(wrongMethod).toMatchObject({ status: 405, body: { detail: 'Method Not Allowed' } });
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
