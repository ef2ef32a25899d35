import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DIR, say } from './params';
import { stop } from './procs';
import { summariseProfile, type ProfileSummary } from './profile';
import { startGateway } from './world';

/**
 * A gateway with `env` under `node --cpu-prof`: `warm(url)`, then `load(url)`, then stopped; the
 * top frames of the load, its first and last `marginMs` left out.
 */
export async function profileGateway(
  env: Record<string, string>,
  warm: (url: string) => Promise<unknown>,
  load: (url: string) => Promise<unknown>,
  marginMs: number,
): Promise<ProfileSummary> {
  const dir = join(DIR, 'cpu-profile');
  const spawned = performance.now();
  const { proc, url } = await startGateway(env, 'gateway-profiled', {
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
  });
  let window: { from: number; to: number };
  try {
    await warm(url);
    const from = performance.now() - spawned;
    await load(url);
    window = { from: from + marginMs, to: performance.now() - spawned - marginMs };
  } finally {
    await stop(proc);
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile written in ${dir}`);
  say(`cpu profile: ${join(dir, file)}`);
  return summariseProfile(join(dir, file), window);
}
