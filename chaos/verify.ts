import { setTimeout as sleep } from 'node:timers/promises';
import { Client as PgClient } from 'pg';
import { request } from 'undici';
import { RUN_ID, say } from '../bench/lib/params';
import { ALL_TOPICS } from '../bench/lib/base-world';
import type { ImportRecord } from './faults';
import { call, orgs, samples, signUps } from './load';
import { IMPORT_SIZE } from './params';
import type { ChaosWorld } from './world';

/** What the data says about one fault's window, after everything settled. */
export interface DataFigures {
  expectedEvents: number;
  eventsLost: number;
  /** Kafka copies beyond the first of an event_id. */
  eventCopies: number;
  /** Requests with more than one distinct event of their type. */
  eventsDoubled: number;
  /** Events of requests answered 5xx (half-done). */
  eventsOfRefused: number;
  outboxNotOnKafka: number;
  signUpsAnswered: number;
  signUpsLost: number;
  /** Accounts created for sign-ups answered 5xx or not answered, after their retries. */
  signUpsHalfDone: number;
  /** Sign-ups refused at first whose retry under the same Idempotency-Key got 201/202. */
  signUpsCompletedByRetry: number;
  orgsLost: number;
  orgsHalfDone: number;
  orgsDoubled: number;
}

interface Seen {
  eventId: string;
  type: string;
  requestId: string;
}

const until = async (what: string, ms: number, check: () => Promise<boolean>) => {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return true;
    await sleep(1_000);
  }
  say(`not settled within ${ms / 1000} s: ${what}`);
  return false;
};

/** Waits for the import's operation to end, then counts the user's conversations by topic. */
export async function checkImport(w: ChaosWorld, rec: ImportRecord, fault: string, waitMs: number): Promise<void> {
  if (rec.operationId) {
    await until(`import operation of ${fault}`, waitMs, async () => {
      const res = await call(w, 'operation', 'GET', `/v1/operations/${rec.operationId}`, { token: rec.user.token });
      rec.final = typeof res.body?.status === 'string' ? res.body.status : `HTTP ${res.status}`;
      return rec.final !== 'running';
    });
  }
  // Through whichever replica answers: a retry goes to the next one (round robin), so one replica
  // refusing chat calls does not leave the count unknown.
  let list: unknown;
  for (let attempt = 0; attempt < 10 && !Array.isArray(list); attempt += 1) {
    if (attempt > 0) await sleep(1_000);
    list = (await call(w, 'import list', 'GET', '/api/chat/conversations/?limit=1000', { token: rec.user.token })).body;
  }
  if (!Array.isArray(list)) return;
  const counts = new Map<string, number>();
  for (const c of list as { topic?: string }[]) counts.set(c.topic ?? '', (counts.get(c.topic ?? '') ?? 0) + 1);
  rec.found = list.length;
  rec.doubled = [...counts.values()].reduce((n, c) => n + Math.max(0, c - 1), 0);
  rec.missing = Array.from({ length: IMPORT_SIZE }, (_, i) => `${fault} import ${i}`).filter(
    (t) => !counts.has(t),
  ).length;
}

async function noWorkflowRunning(w: ChaosWorld): Promise<boolean> {
  const { count } = await w.temporal.workflow.count(`TaskQueue="${RUN_ID}" AND ExecutionStatus="Running"`);
  return count === 0;
}

async function outbox(w: ChaosWorld): Promise<{ eventId: string; requestId: string }[]> {
  const pg = new PgClient({ connectionString: w.dbUrl, connectionTimeoutMillis: 5_000 });
  await pg.connect();
  try {
    await until('the outbox drains', 60_000, async () => {
      const r = await pg.query<{ n: string }>('select count(*) as n from outbox_events where published_at is null');
      return r.rows[0]!.n === '0';
    });
    const r = await pg.query<{ event_id: string; request_id: string | null }>(
      "select event_id, headers->>'request_id' as request_id from outbox_events",
    );
    return r.rows.map((x) => ({ eventId: x.event_id, requestId: x.request_id ?? '' }));
  } finally {
    await pg.end();
  }
}

/** Every message on the run's event topics, read from the beginning up to their end offsets. */
async function kafkaEvents(w: ChaosWorld): Promise<Seen[]> {
  const topics = ALL_TOPICS.filter((t) => /-events$/.test(t) && !t.endsWith('chat-service-events'));
  const ends = new Map<string, number>();
  for (const t of topics)
    for (const p of await w.kafkaAdmin.fetchTopicOffsets(t)) ends.set(`${t}/${p.partition}`, Number(p.high));
  const seen: Seen[] = [];
  const reached = new Map<string, number>();
  const consumer = w.kafka.consumer({ groupId: `${RUN_ID}-verify`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        reached.set(`${topic}/${partition}`, Number(message.offset) + 1);
        const env = JSON.parse(String(message.value)) as { event_id?: string; event_type?: string };
        seen.push({
          eventId: env.event_id ?? '',
          type: env.event_type ?? '',
          requestId: String(message.headers?.request_id ?? ''),
        });
      },
    });
    await until('the event topics are read', 60_000, async () =>
      [...ends].every(([k, end]) => end === 0 || (reached.get(k) ?? 0) >= end),
    );
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

async function accountExists(w: ChaosWorld, email: string): Promise<boolean> {
  const res = await request(`${w.authUrl}/v1/client/sign-in/password`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: 'Bench-password-1' }),
    headersTimeout: 5_000,
    bodyTimeout: 5_000,
  });
  await res.body.text();
  return res.statusCode === 200;
}

async function orgNames(w: ChaosWorld, sub: string): Promise<string[]> {
  const res = await request(`${w.authUrl}/auth/user/${sub}/orgs`, {
    headers: { 'x-internal-key': w.env.INTERNAL_SERVICE_KEY! },
    headersTimeout: 5_000,
    bodyTimeout: 5_000,
  });
  const body = (await res.body.json()) as { name?: string }[] | { orgs?: { name?: string }[] };
  const list = Array.isArray(body) ? body : (body.orgs ?? []);
  return list.map((o) => o.name ?? '');
}

const ok = (status: number) => status >= 200 && status < 300;
const refused = (status: number) => status >= 500;

/** Settles (workflows, outbox), then reads Kafka, the auth fake and the outbox: figures per fault. */
export async function dataFigures(w: ChaosWorld, faults: string[]): Promise<Map<string, DataFigures>> {
  say('settling: workflows, outbox, Kafka');
  await until('workflows of the run', 120_000, () => noWorkflowRunning(w));
  const rows = await outbox(w);
  const seen = await kafkaEvents(w);
  const byRequest = new Map<string, Seen[]>();
  const copies = new Map<string, number>();
  for (const e of seen) {
    byRequest.set(e.requestId, [...(byRequest.get(e.requestId) ?? []), e]);
    copies.set(e.eventId, (copies.get(e.eventId) ?? 0) + 1);
  }
  const phaseOf = new Map(samples.map((s) => [s.requestId, s.phase]));
  const requestOfEvent = new Map(seen.map((e) => [e.eventId, e.requestId]));
  const owned = new Map<string, string[]>();
  for (const o of orgs) if (!owned.has(o.sub)) owned.set(o.sub, await orgNames(w, o.sub).catch(() => []));
  const out = new Map<string, DataFigures>();
  for (const f of faults) {
    const mine = samples.filter((s) => s.phase === f && s.requestId && s.route !== 'ready');
    const eventful = mine.filter((s) => s.event || ['sign-in', 'org', 'sign-up', 'logout'].includes(s.route));
    const typeOf = (route: string) =>
      ({
        'sign-in': 'user_logged_in',
        org: 'organization_created',
        'sign-up': 'user_registered',
        logout: 'user_logged_out',
      })[route];
    const eventsOf = (s: (typeof mine)[number]) =>
      (byRequest.get(s.requestId) ?? []).filter((e) => e.type === typeOf(s.route));
    const distinct = (es: Seen[]) => new Set(es.map((e) => e.eventId)).size;
    const expected = eventful.filter((s) => ok(s.status));
    const ups = signUps.filter((s) => s.phase === f);
    // A refused sign-up that its retry (same Idempotency-Key) completed is done, not half-done.
    const completedByRetry = new Set(ups.filter((s) => !ok(s.status) && ok(s.final)).map((s) => s.requestId));
    const exists = await Promise.all(ups.map((s) => accountExists(w, s.email).catch(() => false)));
    const myOrgs = orgs.filter((o) => o.phase === f);
    const nameCount = (o: (typeof myOrgs)[number]) => (owned.get(o.sub) ?? []).filter((n) => n === o.name).length;
    out.set(f, {
      expectedEvents: expected.length,
      eventsLost: expected.filter((s) => distinct(eventsOf(s)) === 0).length,
      eventCopies: [...copies]
        .filter(([id]) => phaseOf.get(requestOfEvent.get(id) ?? '') === f)
        .reduce((n, [, c]) => n + c - 1, 0),
      eventsDoubled: eventful.filter((s) => distinct(eventsOf(s)) > 1).length,
      eventsOfRefused: eventful.filter(
        (s) => refused(s.status) && !completedByRetry.has(s.requestId) && distinct(eventsOf(s)) > 0,
      ).length,
      signUpsCompletedByRetry: completedByRetry.size,
      outboxNotOnKafka: rows.filter((r) => phaseOf.get(r.requestId) === f && !copies.has(r.eventId)).length,
      signUpsAnswered: ups.filter((s) => ok(s.final)).length,
      signUpsLost: ups.filter((s, i) => ok(s.final) && !exists[i]).length,
      signUpsHalfDone: ups.filter((s, i) => !ok(s.final) && exists[i]).length,
      orgsLost: myOrgs.filter((o) => ok(o.status) && nameCount(o) === 0).length,
      orgsHalfDone: myOrgs.filter((o) => !ok(o.status) && nameCount(o) > 0).length,
      orgsDoubled: myOrgs.filter((o) => nameCount(o) > 1).length,
    });
  }
  return out;
}
