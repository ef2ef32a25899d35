/**
 * The chaos run's parameters, from the command line:
 *   node dist/chaos/run.js [--only=kafka,postgres,temporal,auth,worker,replica,chat] [--outage-sec=N]
 */
const argv = process.argv.slice(2);

export const ALL_FAULTS = ['kafka', 'postgres', 'temporal', 'auth', 'worker', 'replica', 'chat'] as const;
export type FaultName = (typeof ALL_FAULTS)[number];

function parseOnly(): FaultName[] {
  const raw = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  if (!raw) return [...ALL_FAULTS];
  const wanted = raw.split(',').filter(Boolean);
  const unknown = wanted.filter((f) => !(ALL_FAULTS as readonly string[]).includes(f));
  if (unknown.length)
    throw new Error(`--only: unknown fault(s) ${unknown.join(', ')}; known: ${ALL_FAULTS.join(', ')}`);
  return ALL_FAULTS.filter((f) => wanted.includes(f));
}

function parseSeconds(name: string, fallback: number): number {
  const raw = argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 1 || n > 600) throw new Error(`--${name} must be 1–600 seconds`);
  return n;
}

export const FAULTS = parseOnly();
/** How long each dependency stays stopped (and the killed replica stays down). */
export const OUTAGE_SEC = parseSeconds('outage-sec', 30);
/** Load before each fault (the baseline of its timeline) and after the heal (recovery). */
export const BEFORE_SEC = 5;
export const AFTER_SEC = Math.max(10, Math.min(20, OUTAGE_SEC));
/** The window after a heal is extended until every route that failed answered 2xx again, up to this. */
export const RECOVERY_MAX_SEC = 60;
/** The worker is restarted this long after its SIGKILL. */
export const WORKER_DOWN_SEC = Math.min(10, OUTAGE_SEC);
/** Conversations in each fault's import. */
export const IMPORT_SIZE = 200;
/** Settling after the load: operations to finish, the outbox to drain, Kafka to be read. */
export const SETTLE_MS = 90_000;
/** Hard stop for the whole run: setup, and per fault its outage plus at most 4 min of stop, start, recovery and checks. */
export const WATCHDOG_MS = (5 + FAULTS.length * (OUTAGE_SEC / 60 + 4)) * 60_000;

/** Requests per second of each route of the steady mixed load (spread over both replicas). */
export const RATES = {
  'sign-in': 2,
  me: 8,
  'chat list': 2,
  'chat CRUD': 1,
  'ai stream': 0.5,
  org: 0.5,
  'sign-up': 0.5,
  logout: 0.5,
} as const;
export type LoadRoute = keyof typeof RATES;

export const COMMAND = `npm run chaos${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
