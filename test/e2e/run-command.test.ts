import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { request } from 'undici';
import { ROOT, waitFor } from '../support/stack';

jest.setTimeout(300_000);

/**
 * The README's run command (`scripts/dev.sh`) on the real stack: it must print the URLs and leave a
 * gateway that answers /health/ready with 200 on the configured port, plus a running worker.
 */
describe('the README run command', () => {
  const port = process.env.GATEWAY_E2E_PORT ?? '8002';
  let child: ChildProcess | undefined;
  let output = '';

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    spawnSync('bash', [join(ROOT, 'scripts', 'dev.sh'), 'stop'], { stdio: 'ignore' });
  });

  it('brings up the gateway and the worker and prints the URLs', async () => {
    child = spawn('bash', [join(ROOT, 'scripts', 'dev.sh')], {
      cwd: ROOT,
      env: { ...process.env, PORT: port, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));

    await waitFor('the URLs to be printed', async () => output.includes('Temporal UI'), 240_000, 250);
    expect(output).toContain(`Gateway        http://127.0.0.1:${port}`);
    expect(output).toContain(`http://127.0.0.1:${port}/docs`);
    expect(output).not.toMatch(/gateway:gateway@/); // the database password is masked

    const res = await request(`http://localhost:${port}/health/ready`);
    expect(res.statusCode).toBe(200);
    const ready = (await res.body.json()) as { status: string; checks: Record<string, { status: string }> };
    expect(ready.status).toBe('ready');
    // Without an external auth service the run command starts the contract-faithful fake.
    expect(ready.checks['auth-service']?.status).toBe('up');
    expect(output).toContain('(local fake)');
    // ... and the chat-service fake on the local Kafka: settings need no token.
    const settings = await request(`http://127.0.0.1:${port}/api/chat/settings/`);
    expect(settings.statusCode).toBe(200);
    expect(Array.isArray(await settings.body.json())).toBe(true);

    // Ctrl-C stops both processes.
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    await expect(request(`http://127.0.0.1:${port}/health/live`, { headersTimeout: 2000 })).rejects.toThrow();
  });
});
