import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  jwtVerify,
  type JWK,
  type JWTPayload,
  type KeyLike,
} from 'jose';

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyLike;
  readonly publicKey: KeyLike;
  /** Public key as served in the JWKS (`kty`, `n`, `e`, `kid`, `alg`, `use`). */
  readonly jwk: JWK;
  /** SPKI PEM of the public key (what an `HS256`-with-public-key forgery uses as its secret). */
  readonly publicPem: string;
}

export async function generateSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return {
    kid,
    privateKey,
    publicKey,
    jwk: { kid, kty: jwk.kty, alg: 'RS256', use: 'sig', n: jwk.n, e: jwk.e },
    publicPem: await exportSPKI(publicKey),
  };
}

/**
 * The realm's keys. New tokens are signed with the newest key; older keys stay in the JWKS (so
 * tokens they signed still verify) until `dropOld()`. Like Keycloak, the JWKS also lists an
 * RSA-OAEP encryption key, which a verifier must not pick for signatures.
 */
export class KeyRing {
  private keys: SigningKey[];
  private verifier: ReturnType<typeof createLocalJWKSet>;

  private constructor(
    first: SigningKey,
    private readonly encryptionJwk: JWK | null,
  ) {
    this.keys = [first];
    this.verifier = createLocalJWKSet(this.jwks());
  }

  static async create(options: { encryptionKey: boolean }): Promise<KeyRing> {
    const [first, enc] = await Promise.all([
      generateSigningKey(),
      options.encryptionKey ? generateSigningKey() : Promise.resolve(null),
    ]);
    const encryptionJwk = enc ? { ...enc.jwk, alg: 'RSA-OAEP', use: 'enc' } : null;
    return new KeyRing(first, encryptionJwk);
  }

  get current(): SigningKey {
    return this.keys[this.keys.length - 1]!;
  }

  get all(): readonly SigningKey[] {
    return this.keys;
  }

  async rotate(): Promise<SigningKey> {
    const key = await generateSigningKey();
    this.keys.push(key);
    this.verifier = createLocalJWKSet(this.jwks());
    return key;
  }

  /** Keeps only the current key; tokens signed with the others stop verifying. Returns how many were dropped. */
  dropOld(): number {
    const dropped = this.keys.length - 1;
    this.keys = [this.current];
    this.verifier = createLocalJWKSet(this.jwks());
    return dropped;
  }

  jwks(): { keys: JWK[] } {
    const keys = this.keys.map((k) => ({ ...k.jwk }));
    return { keys: this.encryptionJwk ? [...keys, { ...this.encryptionJwk }] : keys };
  }

  /** Verifies an access token the way the service does (RS256 only, issuer checked). */
  async verify(token: string, issuer: string): Promise<JWTPayload> {
    const { payload } = await jwtVerify(token, this.verifier, { issuer, algorithms: ['RS256'] });
    return payload;
  }
}
