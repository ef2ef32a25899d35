import { request as undiciRequest } from 'undici';
import { loadConfig } from '../../src/config';
import { ChatRequestReply } from '../../src/chat/request-reply';
import { createLogger } from '../../src/logger';
import type { Column, Markdown } from '../lib/markdown';
import { loadGet, closedLoopAt, compare, openLoopExtra, pacedGet, pacer, pick } from '../lib/measure';
import { OPEN_LOOP_SCHEDULE, pacedNotes } from '../lib/notes';
import { fmt } from '../lib/stats';
import { P, say } from '../lib/params';
import {
  addedFigure,
  cpuColumns,
  extraFigure,
  figure,
  latencyColumns,
  peakRss,
  type Measurement,
} from '../lib/results';
import type { LoadPoint } from '../lib/rounds';
import type { Scenario } from '../lib/scenario';
import { fakeUser, json, type World } from '../lib/world';
import type { UserContext } from '../../src/auth/types';

/**
 * 2. Chat round trip, GET /api/chat/conversations/ through Kafka and the chat fake, beside the same
 * request without HTTP or the gateway (a ChatRequestReply of the harness's own): closed loops at
 * several concurrencies, then (2b) fixed rates in the pacer process.
 */
async function run(w: World) {
  const user = await fakeUser(w, 'chat');
  await untilChatAnswers(`${w.gatewayUrl}/api/chat/conversations/`, user.token);
  for (let i = 0; i < 3; i += 1)
    await json('POST', `${w.gatewayUrl}/api/chat/conversations/`, { topic: `bench ${i}` }, user.token);
  const direct = new ChatRequestReply({ config: loadConfig(w.env), logger: createLogger('silent'), role: 'bench' });
  await direct.whenReady(30_000);
  const userContext: UserContext = {
    sub: user.sub,
    email: user.email,
    full_name: 'Bench chat',
    active_org_id: null,
    org_role: null,
  };
  const viaKafka = () => direct.request('chat_get_conversations', {}, { userContext }).then(() => undefined);
  const url = `${w.gatewayUrl}/api/chat/conversations/`;
  try {
    await compare(w, {
      scenario: 'chat',
      variants: [
        { variant: 'gateway', load: loadGet(url, user.token) },
        { variant: 'kafka+fake only', load: closedLoopAt(viaKafka) },
      ],
      points: P.chatConc.map((clients) => ({ clients, sec: P.chatSec })),
      warm: { clients: 50, sec: P.warmSec },
    });
  } finally {
    await direct.close();
  }
  await compare(w, {
    scenario: 'chat-rate',
    variants: [
      { variant: 'gateway', load: pacedGet(url, user.token), extra: openLoopExtra },
      { variant: 'kafka+fake only', load: pacedKafka, extra: openLoopExtra, ...pacerChatClient(w, userContext) },
      { variant: 'gateway, autocannon overallRate', load: loadGet(url, user.token) },
    ],
    points: P.chatRates.map((rate) => ({ clients: P.chatRateConc, sec: P.chatRateSec, rate })),
  });
}

/**
 * Waits (up to 60 s) until the gateway's chat path answers a GET, e.g. right after the outage
 * scenario has started Kafka again and the gateway answers 503 while it reconnects; says how long.
 */
async function untilChatAnswers(url: string, token: string): Promise<void> {
  const start = Date.now();
  for (;;) {
    const res = await undiciRequest(url, {
      headers: { authorization: `Bearer ${token}` },
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    await res.body.dump();
    if (res.statusCode === 200) break;
    if (res.statusCode !== 503 || Date.now() - start > 60_000)
      throw new Error(`GET ${url}: ${res.statusCode} while waiting for the chat path`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  if (Date.now() - start > 1_000)
    say(`chat path answering after ${((Date.now() - start) / 1000).toFixed(1)} s of 503s`);
}

const pacedKafka = (at: LoadPoint) => {
  if (at.rate === undefined) throw new Error('an open loop needs a rate');
  return pacer().chat({ rate: at.rate, sec: at.sec });
};

/**
 * The pacer's own chat client reads the whole reply topic, so it is connected only around its own
 * runs: during the gateway's runs it would decode every reply on the event loop that times them.
 */
function pacerChatClient(w: World, userContext: UserContext) {
  return { before: () => pacer().chatInit(w.env, userContext), after: () => pacer().chatClose() };
}

type Row = { c: number; g: Measurement[]; k: Measurement[]; a: Measurement[] };
const g = (r: Row) => r.g;
const k = (r: Row) => r.k;

function report(md: Markdown) {
  md.line(
    `### 2. Chat round trip: GET /api/chat/conversations/ through Kafka and the chat fake, closed loop, ${P.chatSec} s per run`,
  );
  md.line();
  md.table<Row>(
    [
      ['clients', ({ c }) => c],
      ['gateway req/s', (r) => figure(r.g, 'rps', 0)],
      ...latencyColumns('gateway ', g, ['p50', 'p99']),
      ['Kafka+fake only req/s', (r) => figure(r.k, 'rps', 0)],
      ...latencyColumns('', k, ['p50', 'p99']),
      ...cpuColumns(g, ['gateway', 'chat fake', 'Kafka', 'machine', 'unattributed']),
      ['gateway peak RSS MB', (r) => peakRss(r.g)],
    ],
    P.chatConc
      .map((c) => ({ c, g: pick('chat', 'gateway', c), k: pick('chat', 'kafka+fake only', c), a: [] }))
      .filter((r) => r.g.length),
  );
  md.line();
  md.line(
    `### 2b. Chat round trip at a fixed rate (open loop, ${P.chatRateConc} connections, ${P.chatRateSec} s per run)`,
  );
  md.line();
  md.line(`Open loop: ${OPEN_LOOP_SCHEDULE}`);
  md.line();
  const added = (key: 'p50' | 'p99'): Column<Row> => [`added ${key} ms`, (r) => addedFigure(r.g, r.k, key)];
  md.table<Row>(
    [
      ['offered req/s', ({ c }) => c],
      ['gateway req/s', (r) => figure(r.g, 'rps', 0)],
      ...latencyColumns('gateway ', g, ['p50', 'p90', 'p99']),
      ['Kafka+fake only req/s', (r) => figure(r.k, 'rps', 0)],
      ...latencyColumns('', k, ['p50', 'p90', 'p99']),
      added('p50'),
      added('p99'),
      [
        'send lag p99 ms (gateway / Kafka)',
        (r) => `${extraFigure(r.g, 'sendLagP99', 2)} / ${extraFigure(r.k, 'sendLagP99', 2)}`,
      ],
      ...latencyColumns('autocannon overallRate ', (r: Row) => r.a, ['p50', 'p99']),
      ...cpuColumns(g, ['gateway', 'chat fake', 'Kafka', 'unattributed']),
    ],
    P.chatRates
      .map((rate) => ({
        c: rate,
        g: pick('chat-rate', 'gateway', undefined, rate),
        k: pick('chat-rate', 'kafka+fake only', undefined, rate),
        a: pick('chat-rate', 'gateway, autocannon overallRate', undefined, rate),
      }))
      .filter((r) => r.g.length),
  );
  md.line();
  const notes = pacedNotes(P.chatRateConc);
  md.line(notes.connections('gateway'));
  md.line(
    '- Kafka+fake only: the same schedule through the pacer\'s own ChatRequestReply (no HTTP, no gateway), connected only for its own runs (it reads every reply, so during the gateway\'s runs it would load the event loop that times them); "added" is gateway minus that, within each round.',
  );
  md.line(notes.sendLag);
  md.line(notes.autocannon);
  md.line(`- target: added p99 ≤ 10 ms at ${TARGET_RATE} req/s.`);
  md.line();
  reportRounds(md);
}

const TARGET_RATE = 300;

/**
 * 2c. The target point round by round, beside what paused during each run: a p99 of a few thousand
 * samples moves with one pause of the broker or the gateway, and this says which one it was.
 */
function reportRounds(md: Markdown) {
  type RoundRow = { round: number; g: Measurement; k?: Measurement };
  const kafkaRuns = pick('chat-rate', 'kafka+fake only', undefined, TARGET_RATE);
  const rows: RoundRow[] = pick('chat-rate', 'gateway', undefined, TARGET_RATE).map((g) => ({
    round: g.round,
    g,
    k: kafkaRuns.find((k) => k.round === g.round),
  }));
  if (!rows.length) return;
  const pauses = (m?: Measurement) =>
    m?.extra?.kafkaGcPauses === undefined ? 'n/a' : `${m.extra.kafkaGcPauses} / ${fmt(m.extra.kafkaGcLongestMs!, 1)}`;
  const orNa = (v: number | undefined, digits: number) => (v === undefined ? 'n/a' : fmt(v, digits));
  const wait = (m: Measurement | undefined, who: string) =>
    m?.extra?.[`${who}RunWaitMs`] === undefined
      ? 'n/a'
      : `${fmt(m.extra[`${who}RunWaitMs`]!, 0)} (${orNa(m.extra[`${who}RunWaitPerSliceUs`], 0)})`;
  md.line(`### 2c. Chat at ${TARGET_RATE} req/s, round by round, and what paused during each run`);
  md.line();
  md.table<RoundRow>(
    [
      ['round', (r) => r.round],
      ['gateway p99 ms', (r) => fmt(r.g.p99, 2)],
      ['Kafka+fake only p99 ms', (r) => orNa(r.k?.p99, 2)],
      ['added p99 ms', (r) => orNa(r.k && r.g.p99 - r.k.p99, 2)],
      ['Kafka GC pauses in the gateway run (n / longest ms)', (r) => pauses(r.g)],
      ['Kafka GC pauses in the Kafka+fake run (n / longest ms)', (r) => pauses(r.k)],
      ['gateway longest event-loop delay ms', (r) => orNa(r.g.extra?.gatewayLoopDelayMaxMs, 0)],
      ['gateway main thread run-queue wait ms (per scheduling µs)', (r) => wait(r.g, 'gateway')],
      [
        'chat fake run-queue wait ms, gateway run / Kafka+fake run',
        (r) => `${wait(r.g, 'chatFake')} / ${wait(r.k, 'chatFake')}`,
      ],
    ],
    rows,
  );
  md.line();
  md.line(
    "- Kafka GC pauses: the local broker's stop-the-world pauses that ended during the run, from its GC log (`.stack/kafka/gc.log`; n/a when Kafka is not the local stack's). " +
      "Gateway's longest event-loop delay: prom-client's `nodejs_eventloop_lag_max_seconds` over the run (and the moments after it until the harness reads it) less its 10 ms tick; a block of X ms reads X − 10 to X. " +
      "Run-queue wait: how long the process's main thread was runnable but not running during the run (`/proc/<pid>/schedstat`), in all and per time it was scheduled.",
  );
  md.line();
}

export const chat: Scenario = { name: 'chat', run, report };
