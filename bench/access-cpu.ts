/**
 * What one access event costs in CPU: an AccessEventPublisher sending to the local Kafka, fed
 * `user_info_requested` events at a paced rate (default 10,000/s, 100 every 10 ms) for `--sec`
 * seconds after 3 s of warm-up; the process's CPU time (user + system) per event. `control` runs
 * the same pacing loop and makes the same inputs without publishing, so the difference is the
 * events' own cost (building, encoding, sending, and their share of garbage collection).
 * `--rounds=N` runs each build and mode in a child process of its own, in interleaved rounds, and
 * prints the medians. With the stack up (`bash scripts/stack.sh up`):
 *
 *   set -a; . .stack/stack.env; set +a
 *   node dist/bench/access-cpu.js --rounds=4 [--build=dist/base]
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { buildPublisher } from './lib/access-publisher';
import { arg } from './lib/args';

const RATE = Number(arg('rate', '10000'));
const SEC = Number(arg('sec', '8'));
const ROUNDS = Number(arg('rounds', '0'));
const MODE = arg('mode', 'publish');
const THIS_BUILD = resolve(join(__dirname, '..'));
const BUILD = resolve(arg('build', THIS_BUILD));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One measurement in this process: CPU µs per event, after warm-up. */
async function measureHere(): Promise<void> {
  const publisher = buildPublisher(BUILD, {
    bootstrap: (process.env.KAFKA_BOOTSTRAP_SERVERS ?? '127.0.0.1:19092').split(','),
    clientId: 'access-cpu-bench',
    buffer: 50_000,
    lingerMs: 20,
    warn: console.error,
  });
  const users = Array.from({ length: 50 }, (_, i) => `0b5c6f5e-3f7a-4a0e-9a43-${String(i).padStart(12, '0')}`);
  let n = 0;
  let made = 0;
  const tick = (count: number) => {
    for (let i = 0; i < count; i++) {
      const user = users[n++ % users.length]!;
      const requestId = `req-${n.toString(36)}-${(n * 7).toString(36)}`;
      // The control makes the same strings and the data object publishing would make.
      if (MODE === 'control') made += requestId.length + { user_id: user }.user_id.length;
      else publisher.read(user, requestId, '127.0.0.1');
    }
  };
  const phase = async (sec: number) => {
    const end = Date.now() + sec * 1000;
    while (Date.now() < end) {
      tick(RATE / 100);
      await sleep(10);
    }
  };
  await phase(3);
  const cpu = process.cpuUsage();
  const from = n;
  await phase(SEC);
  const used = process.cpuUsage(cpu);
  const events = n - from;
  await sleep(200);
  const unsent = publisher.pending;
  await publisher.close();
  const us = (used.user + used.system) / events;
  process.stdout.write(
    `${JSON.stringify({ build: BUILD, mode: MODE, events, us_per_event: +us.toFixed(2), unsent, made: made > 0 })}\n`,
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

/** Each build and mode in a child process, in rounds whose order rotates; medians per pair. */
function interleaved(): void {
  const builds = [THIS_BUILD, ...(BUILD === THIS_BUILD ? [] : [BUILD])];
  const pairs = builds.flatMap((build) => ['control', 'publish'].map((mode) => ({ build, mode })));
  const runs = new Map<string, number[]>(pairs.map((p) => [`${p.build} ${p.mode}`, []]));
  for (let round = 0; round < ROUNDS; round++)
    for (let i = 0; i < pairs.length; i++) {
      const { build, mode } = pairs[(i + round) % pairs.length]!;
      const args = [__filename, `--build=${build}`, `--mode=${mode}`, `--rate=${RATE}`, `--sec=${SEC}`];
      const res = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: (SEC + 20) * 1000 });
      const line = res.stdout.trim().split('\n').pop() ?? '';
      const out = JSON.parse(line) as { us_per_event: number; unsent: number };
      if (out.unsent > 0) throw new Error(`${build} ${mode}: ${out.unsent} events not sent (is Kafka up?)`);
      runs.get(`${build} ${mode}`)!.push(out.us_per_event);
      console.error(`round ${round + 1} ${build} ${mode}: ${out.us_per_event} µs per event`);
    }
  for (const build of builds) {
    const control = median(runs.get(`${build} control`)!);
    const publish = median(runs.get(`${build} publish`)!);
    console.log(
      `${build}: ${publish} µs CPU per event published, ${control} for the loop alone (${(publish - control).toFixed(2)} for the events), medians of ${ROUNDS}`,
    );
  }
}

if (ROUNDS > 0) interleaved();
else
  void measureHere().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
