import type { Markdown } from '../lib/markdown';
import { httpLoad } from '../lib/load';
import { closedLoopAt, compare, pick } from '../lib/measure';
import { P, RUN_ID } from '../lib/params';
import { cpuColumns, cpuOf, failedSum, figure, latencyColumns, peakRss, roundRatio, type Runs } from '../lib/results';
import type { LoadPoint } from '../lib/rounds';
import type { Scenario } from '../lib/scenario';
import { fmt } from '../lib/stats';
import { fakeUser, json, uniqueEmail, type World } from '../lib/world';

const ECHO = 'echo (server ceiling)';

/** 3. Workflow-backed routes (sign-up, invite) beside the Temporal dev server's own ceiling (an echo workflow). */
async function run(w: World) {
  const owner = await fakeUser(w, 'owner');
  const org = await json<{ org_id: string }>('POST', `${w.gatewayUrl}/v1/org`, { name: `${RUN_ID} org` }, owner.token);
  let echoes = 0;
  const echo = async () => {
    await w.temporal.workflow.execute('echoWorkflow', {
      taskQueue: RUN_ID,
      workflowId: `${RUN_ID}/echo/${(echoes += 1)}`,
      args: [{ message: 'bench' }],
    });
  };
  const post = (path: string, body: () => unknown, token?: string) => (at: LoadPoint) =>
    httpLoad({
      url: `${w.gatewayUrl}${path}`,
      method: 'POST',
      headers: token ? { authorization: `Bearer ${token}` } : {},
      body: () => JSON.stringify(body()),
      connections: at.clients,
      durationSec: at.sec,
    });
  await compare(w, {
    scenario: 'workflow',
    variants: [
      {
        variant: 'sign-up',
        load: post('/v1/client/sign-up', () => ({
          email: uniqueEmail('su'),
          password: 'Bench-password-1',
          full_name: 'Bench',
        })),
      },
      {
        variant: 'invite',
        load: post(`/v1/org/${org.org_id}/invite`, () => ({ email: uniqueEmail('inv'), role: 'member' }), owner.token),
      },
      { variant: ECHO, load: closedLoopAt(echo) },
    ],
    points: [
      { clients: 1, sec: P.wfLatSec },
      { clients: P.wfConc, sec: P.wfSec },
    ],
    warm: { clients: P.wfConc, sec: P.warmSec },
  });
}

const ROUTE: Record<string, string> = {
  'sign-up': 'POST /v1/client/sign-up',
  invite: 'POST /v1/org/{id}/invite',
  [ECHO]: 'echoWorkflow start→result (Temporal client, no HTTP)',
};

function report(md: Markdown) {
  md.line('### 3. Workflow-backed routes on the local Temporal dev server');
  md.line();
  type Row = Runs & { c: number };
  const isEcho = (r: Row) => r.name === ECHO;
  md.table<Row>(
    [
      ['route', ({ name }) => ROUTE[name] ?? name],
      ['clients', ({ c }) => c],
      ['answered/s', ({ rs }) => figure(rs, 'rps', 1)],
      ...latencyColumns('', (r: Row) => r.rs, ['p50', 'p99'], 1),
      ['failed', ({ rs }) => failedSum(rs)],
      ['gateway CPU', (r) => (isEcho(r) ? '–' : cpuOf(r.rs, 'gateway'))],
      ...cpuColumns((r: Row) => r.rs, ['worker', 'Temporal server', 'PG', 'Kafka', 'machine', 'unattributed']),
      ['gateway peak RSS MB', (r) => (isEcho(r) ? '–' : peakRss(r.rs))],
    ],
    Object.keys(ROUTE)
      .flatMap((name) => [1, P.wfConc].map((c) => ({ name, c, rs: pick('workflow', name, c) })))
      .filter((r) => r.rs.length),
  );
  const [su, inv, ec] = ['sign-up', 'invite', ECHO].map((v) => pick('workflow', v, P.wfConc));
  if (su?.length && inv?.length && ec?.length) {
    const rps = (r: { rps: number }) => r.rps;
    md.line();
    md.line(
      `- sign-up / echo ceiling at ${P.wfConc} clients: ${fmt(100 * roundRatio(su, ec, rps), 0)} %; invite / echo: ${fmt(100 * roundRatio(inv, ec, rps), 0)} %`,
    );
  }
  md.line();
}

export const workflow: Scenario = { name: 'workflow', run, report };
