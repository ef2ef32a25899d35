import type { ImportRecord } from './faults';
import type { Sample } from './load';
import type { FaultName } from './params';
import type { DataFigures } from './verify';

/** One fault's timeline: its window, when it was injected and healed, and what was measured around it. */
export interface Window {
  fault: FaultName;
  start: number;
  inject: number;
  /** When the fault was in place (the stop command returned, the process was gone). */
  down: number;
  heal: number;
  end: number;
  /** gateway_access_events_dropped_total over the window, summed over replicas (undefined: a replica restarted). */
  accessDropped?: number;
  imp?: ImportRecord;
  data?: DataFigures;
}

export const ROUTES = [
  'sign-in',
  'me',
  'chat list',
  'chat create',
  'chat update',
  'chat delete',
  'ai stream',
  'org',
  'sign-up',
  'sign-up retry',
  'logout',
  'import',
  'ready',
];
export const CHAT_ROUTES = ['chat list', 'chat create', 'chat update', 'chat delete', 'ai stream'];

/** A 2xx whose body arrived whole (an answer stream: up to its `done` frame). */
export const isOk = (s: Sample) => s.status >= 200 && s.status < 300 && (!s.note || s.note === 'done');

/**
 * A 4xx, a 500 or a 5xx other than 502/503/504, a 2xx whose body never ended or was cut (an
 * answer stream without its `done` or `error` frame), or no answer from a replica that was not
 * killed on purpose. An `error` frame is the stream's way to refuse, not a wrong class.
 */
export function wrongClass(s: Sample, w: Window): boolean {
  if (s.route === 'ready') return false; // readiness has a figure of its own
  if (s.status === 0) return !(w.fault === 'replica' && s.replica === 0 && s.sentAt <= w.heal);
  if (s.status >= 200 && s.status < 300) return !isOk(s) && s.note !== 'error frame';
  return (s.status >= 400 && s.status < 500) || s.status === 500 || s.status > 504;
}

export interface RouteFigures {
  route: string;
  sent: number;
  ok: number;
  r503: number;
  r503NoRetryAfter: number;
  other5xx: number;
  c4xx: number;
  noAnswer: number;
  wrong: number;
  longestMs: number;
  /** Longest answer among requests sent while the fault lasted. */
  longestDuringMs: number;
  /** Seconds from the heal to the first 2xx of a request sent after it; undefined when the route never failed. */
  recoverySec?: number;
  notes: string;
}

export function routeFigures(route: string, all: Sample[], w: Window): RouteFigures {
  const rs = all.filter((s) => s.route === route);
  const during = rs.filter((s) => s.sentAt >= w.down && s.sentAt < Math.max(w.heal, w.down + 1_000));
  const ms = (s: Sample) => s.endAt - s.sentAt;
  const failed = rs.some((s) => !isOk(s) && s.sentAt >= w.inject);
  const firstOk = rs.filter((s) => s.sentAt >= w.heal && isOk(s)).sort((a, b) => a.endAt - b.endAt)[0];
  const notes = new Map<string, number>();
  for (const s of rs) if (s.note && s.note !== 'done') notes.set(s.note, (notes.get(s.note) ?? 0) + 1);
  return {
    route,
    sent: rs.length,
    ok: rs.filter(isOk).length,
    r503: rs.filter((s) => s.status === 503).length,
    r503NoRetryAfter: rs.filter((s) => s.status === 503 && !s.retryAfter).length,
    other5xx: rs.filter((s) => s.status >= 500 && s.status !== 503).length,
    c4xx: rs.filter((s) => s.status >= 400 && s.status < 500).length,
    noAnswer: rs.filter((s) => s.status === 0).length,
    wrong: rs.filter((s) => wrongClass(s, w)).length,
    longestMs: Math.max(0, ...rs.map(ms)),
    longestDuringMs: Math.max(0, ...during.map(ms)),
    recoverySec: failed ? (firstOk ? Math.max(0, firstOk.endAt - w.heal) / 1000 : Infinity) : undefined,
    notes: [...notes].map(([n, c]) => `${c}× ${n}`).join('; '),
  };
}

/**
 * Answers by status per second, one character a second from the window's start: `.` all 2xx,
 * `r` a refusal among them (502/503/504), `X` a wrong status class, ` ` nothing sent.
 */
export function strip(route: string, all: Sample[], w: Window): string {
  const first = Math.floor((w.start - w.inject) / 1000);
  const last = Math.ceil((w.end - w.inject) / 1000);
  let out = '';
  for (let sec = first; sec < last; sec += 1) {
    const rs = all.filter(
      (s) => s.route === route && s.sentAt >= w.inject + sec * 1000 && s.sentAt < w.inject + (sec + 1) * 1000,
    );
    out += !rs.length ? ' ' : rs.some((s) => wrongClass(s, w)) ? 'X' : rs.some((s) => !isOk(s)) ? 'r' : '.';
  }
  return out;
}

/** Per-second counts by status for results.json: route → second (from the injection) → status → count. */
export function perSecond(all: Sample[], w: Window): Record<string, Record<number, Record<number, number>>> {
  const out: Record<string, Record<number, Record<number, number>>> = {};
  for (const s of all) {
    const sec = Math.floor((s.sentAt - w.inject) / 1000);
    const bySec = (out[s.route] ??= {});
    const byStatus = (bySec[sec] ??= {});
    byStatus[s.status] = (byStatus[s.status] ?? 0) + 1;
  }
  return out;
}
