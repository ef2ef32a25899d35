import { Markdown } from '../bench/lib/markdown';
import { RUN_ID } from '../bench/lib/params';
import { versions, versionsTable } from '../bench/lib/versions';
import { checks } from './checks';
import { ROUTES, routeFigures, strip, type RouteFigures, type Window } from './figures';
import { FAULT_LIST } from './faults';
import type { Sample } from './load';
import { AFTER_SEC, BEFORE_SEC, COMMAND, OUTAGE_SEC, RATES } from './params';

const ms = (n: number) => (n ? `${n}` : '–');
const sec = (s: number | undefined) => (s === undefined ? '–' : Number.isFinite(s) ? s.toFixed(1) : 'never');

function routeTable(md: Markdown, figs: RouteFigures[]) {
  md.table<RouteFigures>(
    [
      ['route', (f) => f.route],
      ['sent', (f) => f.sent],
      ['2xx', (f) => f.ok],
      ['503', (f) => (f.r503NoRetryAfter ? `${f.r503} (${f.r503NoRetryAfter} without Retry-After)` : f.r503)],
      ['other 5xx', (f) => f.other5xx],
      ['4xx', (f) => f.c4xx],
      ['no answer', (f) => f.noAnswer],
      ['wrong class', (f) => f.wrong],
      ['longest ms (while down)', (f) => `${ms(f.longestMs)} (${ms(f.longestDuringMs)})`],
      ['recovery s', (f) => sec(f.recoverySec)],
      ['notes', (f) => f.notes],
    ],
    figs.filter((f) => f.sent > 0),
  );
}

function section(md: Markdown, w: Window, all: Sample[], surprises: string[]) {
  const fault = FAULT_LIST.find((f) => f.name === w.fault)!;
  const rs = all.filter((s) => s.phase === w.fault && s.route !== 'operation' && s.route !== 'import list');
  const figs = ROUTES.map((r) => routeFigures(r, rs, w));
  md.line(`### ${FAULT_LIST.indexOf(fault) + 1}. ${fault.title}`);
  md.line();
  md.line(`Target: ${fault.target}.`);
  md.line();
  const cs = checks(rs, w, figs);
  md.table(
    [
      ['figure', (c: (typeof cs)[number]) => c.target],
      ['measured', (c) => c.value],
      ['target met', (c) => (c.pass === undefined ? '–' : c.pass ? 'yes' : '**no**')],
    ],
    cs,
  );
  for (const c of cs) if (c.pass === false) surprises.push(`${w.fault}: ${c.target} — ${c.value}`);
  md.line();
  routeTable(md, figs);
  md.line();
  const after = (t: number) => ((t - w.inject) / 1000).toFixed(1);
  md.line(
    `Answers per second, by send time. The fault is injected at second ${BEFORE_SEC} of the strip, ` +
      `in place ${after(w.down)} s later (the stop command returned), healed ${after(w.heal)} s after the injection (the start command returned):`,
  );
  md.line();
  md.line('```');
  const width = Math.max(...ROUTES.map((r) => r.length));
  for (const r of ROUTES) {
    const line = strip(r, rs, w);
    if (line.trim()) md.line(`${r.padEnd(width)} |${line}|`);
  }
  md.line('```');
  md.line();
}

/** docs/reliability-figures.md from the run's windows. */
export function report(
  windows: Window[],
  all: Sample[],
  opts: { postgres: string; banner?: string; busy: number },
): string {
  const md = new Markdown();
  md.line('# Reliability figures');
  md.line();
  if (opts.banner) {
    md.line(opts.banner);
    md.line();
  }
  md.line(`Run ${RUN_ID}, ${new Date().toISOString()}: \`${COMMAND}\` (see chaos/run.ts).`);
  md.line();
  md.line(
    'The reference run is `npm run chaos`: all seven faults, 30 s per outage, about 15 min with the build. ' +
      '`--only=kafka,postgres,temporal,auth,worker,replica,chat` picks faults, `--outage-sec=N` shortens outages. ' +
      'It needs the local stack of scripts/stack.sh (it stops and starts its services) and rewrites this file.',
  );
  md.line();
  md.line(
    `Two gateway replicas, one worker, the auth and chat fakes, on loopback against the local stack (scripts/stack.sh), ` +
      `with a database, topics and task queue of the run's own. Steady mixed load at fixed rates (req/s): ` +
      `${Object.entries(RATES)
        .map(([r, n]) => `${r} ${n}`)
        .join(', ')}` +
      `, plus /health/ready of each replica every second and one import of 200 conversations per fault (Idempotency-Key; retried after the heal while refused, as Retry-After says, up to 3 times). ` +
      `Sign-ups carry an Idempotency-Key and a refused one (503, 409, no answer) is retried under it as Retry-After says until it is answered, for up to ${OUTAGE_SEC + 30} s (row "sign-up retry"). ` +
      `Each fault: ${BEFORE_SEC} s of load, the fault (${OUTAGE_SEC} s for outages), then ${AFTER_SEC} s after the heal. ` +
      `Machine CPU busy before the start (other users): ${opts.busy.toFixed(2)} cores.`,
  );
  md.line();
  versionsTable(md, versions(['fastify', 'kafkajs', 'pg', '@temporalio/client'], { PostgreSQL: opts.postgres }));
  md.line();
  md.line('How to read the tables:');
  md.line();
  md.line(
    '- Requests go round-robin to the replicas that are up; the harness stops sending to a replica as soon as it kills it.',
  );
  md.line(
    '- "wrong class": a 4xx, a 500 or a 5xx other than 502/503/504, or no answer from a replica that was not killed on purpose. The contract answers an unavailable dependency with 503 + Retry-After.',
  );
  md.line(
    '- "recovery s": from the heal to the first 2xx of a request sent after it, for routes that failed at all ("–": the route never failed; "never": not within the window).',
  );
  md.line(
    '- State events: the outbox events of answered requests (user_logged_in, organization_created, user_registered, user_logged_out), matched by the request id the harness sent, and every outbox row matched on Kafka by event_id, after the outbox drained.',
  );
  md.line(
    '- Strips: one character per second, `.` all 2xx, `r` a refusal (502/503/504) among them, `X` a wrong status class, blank: nothing sent.',
  );
  md.line();
  const surprises: string[] = [];
  for (const w of windows) section(md, w, all, surprises);
  md.line('## Surprising results');
  md.line();
  if (!surprises.length) md.line('- none: every target above was met.');
  for (const s of surprises) md.line(`- ${s}`);
  md.line();
  return md.toString();
}
