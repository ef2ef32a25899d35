/**
 * The fake auth service for tests (implementation in fakes/auth, which also runs on its own).
 *
 *   const auth = await startAuthFake();            // ephemeral port on 127.0.0.1
 *   config.AUTH_SERVICE_URL = auth.url; config.AUTH_JWKS_URL = auth.jwksUrl; config.AUTH_ISSUER = auth.issuer;
 *   await auth.forge.expired();                     // tokens the gateway must reject
 *   await auth.setDown(true, 'refuse');             // or '503'; setDown(false) comes back on the same port
 *   auth.setSignUpOfRegistered('sign-in');          // sign-up of a registered e-mail + its password → 201 tokens
 *   expect(auth.callsTo({ path: '/v1/client/me' })).toHaveLength(0);
 *   afterEach(() => auth.reset()); afterAll(() => auth.close());
 */
export * from '../../fakes/auth';
