/**
 * The benchmark harness (`npm run bench`; see docs/performance.md). Starts on 127.0.0.1 everything
 * it measures (auth fake, static /me responder, chat fake, worker, gateways, nginx, the floor proxy)
 * against the local stack, with its own database, topics, consumer groups and task queue, runs
 * each scenario (bench/scenarios/*) in interleaved rounds, prints the report and stops everything.
 *
 *   node dist/bench/run.js [--quick] [--only=direct,light,scale,profile,chat,workflow,sse,outage] [--sec=N] [--worker-profile]
 *
 * `outage` is opt-in (not in the default list): it stops and starts the local stack's Kafka.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { closePacer, results } from './lib/measure';
import { DIR, P, QUICK, RUN_ID, SCENARIOS, WATCHDOG_MS, say } from './lib/params';
import { machineCpu } from './lib/procs';
import { report } from './lib/report';
import type { Scenario } from './lib/scenario';
import { setUp, tearDown, type World } from './lib/world';
import { chat } from './scenarios/chat';
import { direct } from './scenarios/direct';
import { light } from './scenarios/light';
import { outage } from './scenarios/outage';
import { profile, profileSummary } from './scenarios/profile';
import { scale } from './scenarios/scale';
import { sse } from './scenarios/sse';
import { workflow } from './scenarios/workflow';

const ALL: Scenario[] = [direct, light, outage, scale, profile, chat, sse, workflow];

/** CPU the machine spends before we start (other users): every figure competes with it. */
async function busyBefore(): Promise<number> {
  say(
    `load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const m0 = machineCpu();
  await sleep(3_000);
  const busy = (machineCpu().busy - m0.busy) / 3;
  say(`machine CPU busy before start (others): ${busy.toFixed(2)} cores`);
  if (busy > 0.25) say('WARNING: the machine is not idle; every figure below competes with that load');
  return busy;
}

async function main() {
  say(`run ${RUN_ID} (${QUICK ? 'quick' : 'full'}); logs, profile and results in ${DIR}`);
  const busy = await busyBefore();
  const world: Partial<World> = {};
  const cleanUp = async () => {
    for (const s of ALL) await s.cleanUp?.().catch((err: unknown) => say(`${s.name}: ${String(err)}`));
    await closePacer();
    await tearDown(world);
  };
  const watchdog = setTimeout(() => {
    say(`watchdog: the run exceeded ${WATCHDOG_MS / 60_000} min; stopping`);
    void cleanUp().finally(() => process.exit(2));
  }, WATCHDOG_MS);
  const onSignal = () => {
    say('interrupted; stopping');
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let failed = false;
  try {
    const w = await setUp(world);
    const ran = ALL.filter((s) => SCENARIOS.has(s.name));
    for (const s of ran) await s.run(w);
    const text = report(ran, busy);
    writeFileSync(
      join(DIR, 'results.json'),
      JSON.stringify({ runId: RUN_ID, params: P, results, profileSummary: profileSummary() }),
    );
    writeFileSync(join(DIR, 'results.md'), text);
    process.stdout.write(`${text}\n`);
    say(`results: ${join(DIR, 'results.md')} and results.json`);
  } catch (err) {
    failed = true;
    say(`FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  } finally {
    clearTimeout(watchdog);
    await cleanUp();
  }
  say(
    `load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  process.exit(failed ? 1 : 0);
}

void main();
