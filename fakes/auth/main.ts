/**
 * The fake auth service on its own, for running the gateway locally without the real one:
 *
 *   npm run build:fakes && node dist/fakes/auth/main.js
 *
 * Environment: AUTH_FAKE_PORT (8001), AUTH_FAKE_HOST (127.0.0.1), AUTH_FAKE_ISSUER
 * (http://<host>:<port>/realms/auth-service), AUTH_FAKE_INTERNAL_KEY (gateway-secret-key-2024),
 * AUTH_FAKE_ACCESS_TOKEN_TTL_SEC (300), AUTH_FAKE_LOG (1 = log every request).
 * State lives in memory and is lost on exit.
 */
import closeWithGrace from 'close-with-grace';
import { startAuthFake } from './server';

function intFromEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

async function main(): Promise<void> {
  const fake = await startAuthFake({
    port: intFromEnv('AUTH_FAKE_PORT', 8001, 0, 65535),
    host: process.env.AUTH_FAKE_HOST || '127.0.0.1',
    issuer: process.env.AUTH_FAKE_ISSUER || undefined,
    internalKey: process.env.AUTH_FAKE_INTERNAL_KEY || undefined,
    accessTokenTtlSec: intFromEnv('AUTH_FAKE_ACCESS_TOKEN_TTL_SEC', 300, 1, 86_400),
    logger: process.env.AUTH_FAKE_LOG === '1',
  });

  closeWithGrace({ delay: 5000 }, async ({ err }) => {
    if (err) process.stderr.write(`auth fake: ${err.message}\n`);
    await fake.close();
  });

  process.stdout.write(
    [
      `auth fake listening on ${fake.url}`,
      `  AUTH_SERVICE_URL=${fake.url}`,
      `  AUTH_JWKS_URL=${fake.jwksUrl}`,
      `  AUTH_ISSUER=${fake.issuer}`,
      `  INTERNAL_SERVICE_KEY=${fake.internalKey}`,
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`auth fake failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
