/**
 * The fake billing service on its own, for running the gateway locally without the real one:
 *
 *   npm run build:fakes && node dist/fakes/billing/main.js
 *
 * Environment: BILLING_FAKE_PORT (8003), BILLING_FAKE_HOST (127.0.0.1). State lives in memory.
 */
import closeWithGrace from 'close-with-grace';
import { startBillingFake } from './server';

async function main(): Promise<void> {
  const raw = process.env.BILLING_FAKE_PORT || '8003';
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`BILLING_FAKE_PORT must be a port, got "${raw}"`);
  const fake = await startBillingFake({ port, host: process.env.BILLING_FAKE_HOST || '127.0.0.1' });
  closeWithGrace({ delay: 5000 }, async ({ err }) => {
    if (err) process.stderr.write(`billing fake: ${err.message}\n`);
    await fake.close();
  });
  process.stdout.write(`billing fake listening on ${fake.url}\n  BILLING_SERVICE_URL=${fake.url}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`billing fake failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
