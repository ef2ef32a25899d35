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

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The built gateway (dist) as its own process, as it runs in production; resolves with its URL. */
export async function spawnGateway(
  env: Record<string, string>,
): Promise<{ child: ChildProcessWithoutNullStreams; url: string }> {
  const port = String(await freePort());
  const child = spawn(process.execPath, [join(ROOT, 'dist/src/api/server.js')], {
    // An ephemeral admin port: the default one may be taken by another gateway on the machine.
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      PORT: port,
      ADMIN_PORT: '0',
      ...env,
    },
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const url = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      if (url) resolve({ child, url });
    });
    child.once('exit', (code) => reject(new Error(`gateway exited (${code}) before listening: ${out}`)));
  });
}
