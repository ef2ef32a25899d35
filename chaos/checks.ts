import type { Sample } from './load';
import { CHAT_ROUTES, isOk, routeFigures, type RouteFigures, type Window } from './figures';

/** One target of the issue, measured: `pass` undefined when this run cannot tell. */
export interface Check {
  target: string;
  value: string;
  pass?: boolean;
}

/** Requests sent while the fault was in place (from the stop's end to the heal). */
const during = (rs: Sample[], w: Window) => rs.filter((s) => s.sentAt >= w.down && s.sentAt < w.heal);
const allOk = (rs: Sample[]) => rs.every(isOk);
const count = (rs: Sample[], p: (s: Sample) => boolean) => `${rs.filter(p).length}/${rs.length}`;
const fmtSec = (s: number | undefined) =>
  s === undefined ? 'unaffected' : Number.isFinite(s) ? `${s.toFixed(1)} s` : 'never';

function recovery(figs: RouteFigures[], limitSec: number): Check {
  const worst = figs
    .filter((f) => !['ready', 'import'].includes(f.route) && f.recoverySec !== undefined)
    .sort((a, b) => b.recoverySec! - a.recoverySec!)[0];
  return {
    target: `recovery ≤ ${limitSec} s on every route`,
    value: worst ? `slowest: ${worst.route} ${fmtSec(worst.recoverySec)}` : 'no route failed',
    pass: !worst || worst.recoverySec! <= limitSec,
  };
}

function readiness(rs: Sample[]): Check {
  const ready = rs.filter((s) => s.route === 'ready');
  return {
    target: 'readiness stays 200',
    value: `${count(ready, (s) => s.status === 200)} probes 200`,
    pass: allOk(ready),
  };
}

function routesOk(rs: Sample[], w: Window, routes: string[], target: string): Check {
  const d = during(rs, w).filter((s) => routes.includes(s.route));
  return { target, value: `${count(d, isOk)} 2xx while down`, pass: d.length > 0 && allOk(d) };
}

/** The generic targets (any fault) from the data, then the fault's own. */
export function checks(rs: Sample[], w: Window, figs: RouteFigures[]): Check[] {
  const d = w.data;
  const out: Check[] = [];
  if (d) {
    out.push(
      {
        target: '0 state events lost',
        value: `${d.eventsLost} of ${d.expectedEvents} expected; ${d.outboxNotOnKafka} outbox rows not on Kafka`,
        pass: d.eventsLost + d.outboxNotOnKafka === 0,
      },
      {
        target: '0 events duplicated by event_id',
        value: `${d.eventCopies} extra copies; ${d.eventsDoubled} requests with 2+ events`,
        pass: d.eventCopies + d.eventsDoubled === 0,
      },
      {
        target: '0 sign-ups lost or doubled',
        value: `${d.signUpsLost} lost of ${d.signUpsAnswered} answered 201/202 (${d.signUpsCompletedByRetry} on a retry); ${d.signUpsHalfDone} accounts behind a 5xx or no answer after the retries`,
        pass: d.signUpsLost === 0 && d.signUpsHalfDone === 0,
      },
      {
        target: 'nothing half-done',
        value: `${d.eventsOfRefused} events of 5xx answers; ${d.orgsHalfDone} orgs behind a non-2xx; ${d.orgsLost} orgs lost; ${d.orgsDoubled} doubled`,
        pass: d.eventsOfRefused + d.orgsHalfDone + d.orgsLost + d.orgsDoubled === 0,
      },
    );
  }
  if (w.imp) {
    const i = w.imp;
    out.push({
      target: `import of 200 conversations exactly once`,
      value: `answers ${i.answers.join(', ')}; operation ${i.final ?? '?'}; ${i.found ?? '?'} found, ${i.missing ?? '?'} missing, ${i.doubled ?? '?'} doubled`,
      pass: i.missing === 0 && i.doubled === 0,
    });
  }
  const s500 = rs.filter((s) => s.status === 500).length;
  out.push({ target: 'no 500', value: `${s500}`, pass: s500 === 0 });
  const wrong = figs.reduce((n, f) => n + f.wrong, 0);
  out.push({ target: 'no wrong status class', value: `${wrong}`, pass: wrong === 0 });
  const bare = rs.filter((s) => s.status === 503 && !s.retryAfter && s.route !== 'ready');
  out.push({ target: 'every 503 carries Retry-After', value: `${bare.length} without`, pass: bare.length === 0 });
  if (w.accessDropped !== undefined || w.fault === 'replica')
    out.push({
      target: 'access events dropped (counted)',
      value: w.accessDropped === undefined ? 'n/a (a replica restarted)' : `${w.accessDropped}`,
    });
  return [...out, ...faultChecks(rs, w, figs)];
}

function faultChecks(rs: Sample[], w: Window, figs: RouteFigures[]): Check[] {
  const fig = (r: string) => figs.find((f) => f.route === r) ?? routeFigures(r, [], w);
  switch (w.fault) {
    case 'kafka': {
      const chatSlow = Math.max(...CHAT_ROUTES.map((r) => fig(r).longestDuringMs));
      return [
        { target: 'chat answers ≤ 1 s while down', value: `longest ${chatSlow} ms`, pass: chatSlow <= 1_000 },
        routesOk(rs, w, ['me'], 'reads unaffected (GET /me)'),
        readiness(rs),
        recovery(figs, 5),
      ];
    }
    case 'postgres': {
      const logout = during(rs, w).filter((s) => s.route === 'logout');
      return [
        readiness(rs),
        routesOk(rs, w, ['me', 'chat list'], 'reads and chat keep serving (outage within the staleness bound)'),
        {
          target: 'logout answers 503 (never 500)',
          value: `${count(logout, (s) => s.status === 503)} 503 while down`,
          pass: logout.every((s) => s.status === 503 || isOk(s)),
        },
        recovery(figs, 5),
      ];
    }
    case 'temporal': {
      const wf = rs.filter((s) => ['sign-up', 'import'].includes(s.route) && s.sentAt >= w.inject);
      return [
        {
          target: 'workflow routes 503 or 202/201/200',
          value: `${count(wf, (s) => isOk(s) || s.status === 503)}`,
          pass: wf.every((s) => isOk(s) || s.status === 503),
        },
        routesOk(rs, w, ['me', 'chat list', 'sign-in'], 'direct routes unaffected'),
      ];
    }
    case 'auth': {
      const refusals = during(rs, w).filter((s) => s.status === 503);
      const fast = (s: Sample) => s.endAt - s.sentAt <= 100 && s.retryAfter;
      // The breaker opens once calls stall; the reads waiting then end with 503 too, necessarily
      // later than 100 ms: counted apart, the target is about requests sent to an open breaker.
      const openedAt = Math.min(...refusals.filter(fast).map((s) => s.endAt));
      const afterOpen = refusals.filter((s) => s.sentAt >= openedAt);
      const slow = afterOpen.filter((s) => !fast(s));
      const opened = Number.isFinite(openedAt)
        ? `${((openedAt - w.down) / 1000).toFixed(1)} s after the freeze`
        : 'never';
      return [
        {
          target: '503 + Retry-After ≤ 100 ms per request (breaker open)',
          value: `${afterOpen.length - slow.length}/${afterOpen.length} 503s within 100 ms with Retry-After once open (${opened}); ${refusals.length - afterOpen.length} more as it opened`,
          pass: afterOpen.length > 0 && slow.length <= afterOpen.length * 0.05,
        },
        recovery(figs, 5),
      ];
    }
    case 'worker':
      return [recovery(figs, 15)];
    case 'replica': {
      const survivor = rs.filter(
        (s) => s.replica === 1 && s.route !== 'ready' && s.sentAt >= w.inject && s.sentAt < w.heal,
      );
      const lost = rs.filter((s) => s.replica === 0 && s.status === 0).length;
      return [
        {
          target: 'the surviving replica serves without errors',
          value: `${count(survivor, isOk)} 2xx on gateway-b while gateway-a was down; ${lost} requests in flight on gateway-a got no answer`,
          pass: allOk(survivor),
        },
      ];
    }
    case 'chat': {
      // The streams open when the fake went away: each must end, with `done` or an error frame (or a 5xx).
      const streams = rs.filter((s) => s.route === 'ai stream' && s.sentAt < w.down && s.endAt > w.inject);
      const ended = (s: Sample) => isOk(s) || s.note === 'error frame' || s.status >= 500;
      const hung = streams.filter((s) => !ended(s));
      const how = [...new Set(hung.map((s) => s.note ?? `HTTP ${s.status}`))].join(', ');
      return [
        {
          target: 'streams open across the restart end (done, error frame or 5xx), none hangs',
          value: `${count(streams, ended)} ended; ${hung.length ? `${hung.length} with ${how}` : 'none hung'}`,
          pass: streams.length > 0 && streams.every(ended),
        },
        recovery(figs, 15),
      ];
    }
  }
}
