/**
 * The auth fake in a process of its own, so a test can freeze it (SIGSTOP): a stopped process
 * keeps accepting connections (the kernel does) and never answers.
 *
 *   const auth = await spawnAuthFake();      // auth.settings: the gateway's AUTH_* overrides
 *   auth.freeze(); … auth.thaw();            // SIGSTOP / SIGCONT
 *   const { token } = await auth.signUp();   // a user at the fake, over HTTP
 *   await auth.stop();
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { ROOT, freePort, spawnNode, stopProcess, uniqueSuffix } from './stack';

const MAIN = join(ROOT, 'dist', 'fakes', 'auth', 'main.js');
const INTERNAL_KEY = 'test-internal-key';

export async function spawnAuthFake() {
  if (!existsSync(MAIN)) execFileSync('npx', ['tsc', '-p', 'fakes/tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
  const port = await freePort();
  const env = { AUTH_FAKE_PORT: String(port), AUTH_FAKE_INTERNAL_KEY: INTERNAL_KEY };
  const { child, printed } = await spawnNode('auth fake', MAIN, env, 'INTERNAL_SERVICE_KEY=');
  const setting = (name: string) => new RegExp(`${name}=(\\S+)`).exec(printed)![1]!;
  const url = setting('AUTH_SERVICE_URL');
  return {
    url,
    settings: {
      AUTH_SERVICE_URL: url,
      AUTH_JWKS_URL: setting('AUTH_JWKS_URL'),
      AUTH_ISSUER: setting('AUTH_ISSUER'),
      INTERNAL_SERVICE_KEY: INTERNAL_KEY,
      COOKIE_SECURE: 'false',
    },
    freeze: () => child.kill('SIGSTOP'),
    thaw: () => child.kill('SIGCONT'),
    async signUp(): Promise<{ token: string }> {
      const res = await request(`${url}/v1/client/sign-up`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          email: `frozen-${uniqueSuffix()}@example.com`,
          password: 'Frozen-pass-123',
          full_name: 'Frozen',
        }),
      });
      const body = (await res.body.json()) as { access_token: string };
      return { token: body.access_token };
    },
    async stop() {
      child.kill('SIGCONT');
      await stopProcess(child);
    },
  };
}
