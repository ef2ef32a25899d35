import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig, type Config } from '../../src/config';

export const ROOT = join(__dirname, '..', '..');
const run = promisify(execFile);

/** A config for tests: the stack's connection settings, quiet logs, and any overrides. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  // No load shedding on event-loop lag: tests bundle workflows for in-process workers, which stalls
  // the loop for seconds; conformance.test.ts turns shedding on where it is the subject.
  return loadConfig({
    ...process.env,
    LOG_LEVEL: 'silent',
    NODE_ENV: 'test',
    LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
    ...overrides,
  });
}

/** Stops/starts one service of the local stack (fault tests), keeping its data. */
export async function stackService(
  action: 'stop' | 'start',
  service: 'postgres' | 'kafka' | 'temporal',
): Promise<void> {
  await run('bash', [join(ROOT, 'scripts', 'stack.sh'), action, service], { timeout: 180_000 });
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}${lastError instanceof Error ? `: ${lastError.message}` : ''}`);
}

export const uniqueSuffix = () => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
