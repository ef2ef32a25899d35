/**
 * The fault-injection harness (`npm run chaos`; see docs/reliability-figures.md). Starts on
 * 127.0.0.1 the auth and chat fakes, one worker and two gateway replicas against the local stack
 * (a database, topics and task queue of its own), drives a steady mixed load, and injects each
 * fault in turn (chaos/faults.ts); afterwards it reads the data (Kafka, the outbox, the fakes)
 * and writes the figures.
 *
 *   node dist/chaos/run.js [--only=kafka,postgres,temporal,auth,worker,replica,chat] [--outage-sec=N]
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client as PgClient } from 'pg';
import { DIR, ROOT, RUN_ID, say } from '../bench/lib/params';
import { fakeUser } from '../bench/lib/base-world';
import { killAllNow, machineCpu } from '../bench/lib/procs';
import { FAULT_LIST, postImport, sendImport, stack, stackStopped, type Fault, type ImportRecord } from './faults';
import { isOk, perSecond, type Window } from './figures';
import { closeLoad, retryDelayMs, retryable, samples, startLoad, state } from './load';
import {
  AFTER_SEC,
  ALL_FAULTS,
  BEFORE_SEC,
  COMMAND,
  FAULTS,
  OUTAGE_SEC,
  RECOVERY_MAX_SEC,
  WATCHDOG_MS,
} from './params';
import { report } from './report';
import { checkImport, dataFigures } from './verify';
import { metric, setUp, tearDown, type ChaosWorld } from './world';

const OUT = join(ROOT, 'docs', 'reliability-figures.md');

async function accessDropped(w: ChaosWorld): Promise<number | undefined> {
  const values = await Promise.all(w.replicas.map((r) => metric(r, 'gateway_access_events_dropped_total')));
  return values.some((v) => v === undefined) ? undefined : values.reduce((a, b) => a! + b!, 0);
}

/** One fault's window: load before, the fault, the heal, load after; then its import is checked. */
async function runFault(w: ChaosWorld, f: Fault): Promise<Window> {
  say(`fault ${f.name}: ${f.title}`);
  const win: Window = { fault: f.name, start: Date.now(), inject: 0, down: 0, heal: 0, end: 0 };
  state.phase = f.name;
  const dropped0 = await accessDropped(w);
  // Made before the fault: the auth fake may be the thing that is down.
  const importUser = await fakeUser(w, `import-${f.name}`);
  await sleep(BEFORE_SEC * 1_000);
  let imp: Promise<ImportRecord> | undefined;
  const startImport = () => {
    imp = sendImport(w, f.name, importUser);
  };
  win.inject = Date.now();
  await f.inject(w, startImport);
  win.down = Date.now();
  await sleep(f.downSec * 1_000);
  await f.heal(w);
  win.heal = Date.now();
  if (f.importAfterHeal) startImport();
  // A refused import is retried with the same Idempotency-Key as Retry-After says, as a client would.
  const retried = imp?.then(async (rec) => {
    for (let i = 0; i < 3 && retryable(rec.answers[rec.answers.length - 1]!); i += 1) {
      if (i > 0) await sleep(retryDelayMs(rec.retryAfterSec));
      await postImport(w, rec, f.name);
    }
    return rec;
  });
  await sleep(AFTER_SEC * 1_000);
  // Longer when a route has not answered 2xx since the heal yet, so its recovery time is measured.
  while (Date.now() - win.heal < RECOVERY_MAX_SEC * 1_000 && unrecovered(win).length) await sleep(1_000);
  win.end = Date.now();
  state.phase = '';
  if (retried) {
    win.imp = await retried;
    await checkImport(w, win.imp, f.name, 60_000);
  }
  const dropped1 = await accessDropped(w);
  if (dropped0 !== undefined && dropped1 !== undefined && dropped1 >= dropped0) win.accessDropped = dropped1 - dropped0;
  return win;
}

/** Routes that failed during the window and have not answered 2xx to a request sent since the heal. */
function unrecovered(win: Window): string[] {
  const rs = samples.filter((s) => s.phase === win.fault && s.sentAt >= win.inject && s.route !== 'import');
  const failed = new Set(rs.filter((s) => !isOk(s)).map((s) => s.route));
  return [...failed].filter((r) => !rs.some((s) => s.route === r && s.sentAt >= win.heal && isOk(s)));
}

async function postgresVersion(w: ChaosWorld): Promise<string> {
  const pg = new PgClient({ connectionString: w.dbUrl, connectionTimeoutMillis: 5_000 });
  try {
    await pg.connect();
    return (await pg.query<{ server_version: string }>('show server_version')).rows[0]!.server_version;
  } catch {
    return '?';
  } finally {
    await pg.end().catch(() => undefined);
  }
}

function banner(busy: number): string | undefined {
  const lines: string[] = [];
  if (OUTAGE_SEC < 30 || FAULTS.length < ALL_FAULTS.length)
    lines.push(
      `**Short smoke run** (\`--outage-sec=${OUTAGE_SEC}\`, faults: ${FAULTS.join(', ')}): it shows the harness works; it is not the reference run (\`npm run chaos\`, 30 s per fault).`,
    );
  if (busy > 0.25)
    lines.push(
      `**Busy machine**: other processes used ${busy.toFixed(2)} of ${2} cores before the start; latencies and recovery times are indicative only.`,
    );
  return lines.length ? lines.join('\n\n') : undefined;
}

async function main() {
  say(
    `run ${RUN_ID}: ${COMMAND}; logs in ${DIR}; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const m0 = machineCpu();
  await sleep(3_000);
  const busy = (machineCpu().busy - m0.busy) / 3;
  const world: Partial<ChaosWorld> = {};
  let load: ReturnType<typeof startLoad> | undefined;
  const cleanUp = async () => {
    await load?.stop().catch(() => undefined);
    if (stackStopped) await stack('start', stackStopped).catch((err: unknown) => say(String(err)));
    await tearDown(world);
    await closeLoad().catch(() => undefined);
  };
  const watchdog = setTimeout(() => {
    say(`watchdog: the run exceeded ${Math.round(WATCHDOG_MS / 60_000)} min; stopping`);
    void cleanUp().finally(() => process.exit(2));
  }, WATCHDOG_MS);
  const onSignal = () => {
    say('interrupted; stopping');
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // A stray rejection is logged, not fatal: dying mid-fault would leave a stack service stopped.
  process.on('unhandledRejection', (err) => say(`unhandled rejection: ${String(err)}`));
  process.once('exit', () => {
    if (world.authFrozen && world.authFake) process.kill(world.authFake.pid, 'SIGCONT');
    killAllNow();
  });
  let failed = false;
  try {
    const w = await setUp(world);
    say('world up; load starts');
    load = startLoad(w);
    await sleep(5_000);
    const windows: Window[] = [];
    for (const f of FAULT_LIST.filter((x) => FAULTS.includes(x.name))) windows.push(await runFault(w, f));
    await load.stop();
    load = undefined;
    const data = await dataFigures(w, FAULTS);
    for (const win of windows) win.data = data.get(win.fault);
    const text = report(windows, samples, { postgres: await postgresVersion(w), banner: banner(busy), busy });
    writeFileSync(OUT, `${text}\n`);
    writeFileSync(
      join(DIR, 'results.json'),
      JSON.stringify({
        runId: RUN_ID,
        command: COMMAND,
        windows,
        perSecond: windows.map((x) =>
          perSecond(
            samples.filter((s) => s.phase === x.fault),
            x,
          ),
        ),
      }),
    );
    say(`figures: ${OUT}; per-second counts: ${join(DIR, 'results.json')}`);
  } catch (err) {
    failed = true;
    say(`FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  } finally {
    clearTimeout(watchdog);
    await cleanUp();
  }
  process.exit(failed ? 1 : 0);
}

void main();
