import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { AuthFake } from './auth-fake';
import { ROOT } from './stack';

/** The settings that point a gateway at the auth fake. */
export const authFakeEnv = (auth: AuthFake): Record<string, string> => ({
  AUTH_SERVICE_URL: auth.url,
  AUTH_JWKS_URL: auth.jwksUrl,
  AUTH_ISSUER: auth.issuer,
  COOKIE_SECURE: 'false',
});

export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The built gateway (dist) as its own process, as it runs in production; resolves with its URL
 * once it logs that it listens (LOG_LEVEL info or lower).
 */
export async function spawnGateway(
  env: Record<string, string>,
): Promise<{ child: ChildProcessWithoutNullStreams; url: string }> {
  const [port, adminPort] = [String(await freePort()), String(await freePort())];
  const child = spawn(process.execPath, [join(ROOT, 'dist/src/api/server.js')], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      PORT: port,
      // Not the default 9002: two of them (and other gateways on this machine) would collide.
      ADMIN_PORT: adminPort,
      ...env,
    },
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gateway did not listen within 60 s: ${out}`));
    }, 60_000);
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const url = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      if (!url) return;
      clearTimeout(timer);
      resolve({ child, url });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited (${code}) before listening: ${out}`));
    });
  });
}
