import { Client, Connection } from '@temporalio/client';
import { signUpWorkflowIdOf as signUpWorkflowId } from '../support/workflow-ids';
import { Database } from '../../src/db/database';
import { AesGcmPayloadCodec } from '../../src/temporal/codec';
import { call, startAuthWorkerStack, type AuthWorkerStack } from '../support/auth-gateway';
import { testConfig, uniqueSuffix, waitFor } from '../support/stack';

jest.setTimeout(120_000);

describe('sign-up as a workflow (Update-with-Start)', () => {
  const taskQueue = `test-sign-up-${uniqueSuffix()}`;
  const overrides = {
    TEMPORAL_TASK_QUEUE: taskQueue,
    WORKFLOW_SYNC_TIMEOUT_MS: '2000',
    TEMPORAL_CODEC_KEYS: `su:${Buffer.alloc(32, 9).toString('base64')}`,
    INTERNAL_SERVICE_KEY: 'test-internal-key',
  };
  let s: AuthWorkerStack;
  let db: Database;

  beforeAll(async () => {
    s = await startAuthWorkerStack(overrides, { workerOverrides: { AUTH_BREAKER_COOLDOWN_MS: '500' } });
    db = new Database(testConfig());
  });

  afterAll(async () => {
    await s.close();
    await db.close();
  });

  const registeredEvents = (userId: string) =>
    db.execute<{ event_id: string; payload: any }[]>(
      "select event_id, payload from outbox_events where event_type = 'user_registered' and message_key = $1",
      [userId],
    );

  it('answers 201 with the token response once the account exists, and records exactly one user_registered', async () => {
    const email = `new-${uniqueSuffix()}@example.com`;
    const res = await call(s.gw.url, 'POST', '/v1/client/sign-up', {
      body: { email: email.toUpperCase(), password: 'sign-up-pass-1', full_name: 'Nina New' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      token_type: 'Bearer',
      jwt: res.body.access_token,
      user: { email, full_name: 'Nina New', orgs: [], active_org_id: null },
    });
    const userId = res.body.user.user_id as string;
    expect([...s.fake.users.values()].filter((u) => u.email === email)).toHaveLength(1);
    const events = await waitFor('user_registered', async () => {
      const rows = await registeredEvents(userId);
      return rows.length ? rows : undefined;
    });
    expect(events).toHaveLength(1);
    expect(events[0]!.payload.data).toEqual({ user_id: userId, email });

    // The account is created and read in one local activity and user_registered written in
    // another (markers in the history), not in activity tasks through the server.
    const client = new Client({
      connection: await Connection.connect({ address: testConfig().TEMPORAL_ADDRESS }),
      dataConverter: { payloadCodecs: [AesGcmPayloadCodec.fromConfig(testConfig(overrides).TEMPORAL_CODEC_KEYS)] },
    });
    try {
      const handle = client.workflow.getHandle(signUpWorkflowId(email));
      await handle.result();
      const history = (await handle.fetchHistory()).events ?? [];
      const scheduled = history.flatMap((e) =>
        e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name] : [],
      );
      expect(scheduled).toEqual([]);
      expect(history.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')).toHaveLength(
        2,
      );
    } finally {
      await client.connection.close();
    }
  });

  it('answers 409 for an e-mail that is already registered, and 422 for a short password', async () => {
    s.fake.createUser({ email: 'taken@example.com', password: 'taken-pass-1' });
    const res = await call(s.gw.url, 'POST', '/v1/client/sign-up', {
      body: { email: 'taken@example.com', password: 'another-pass-1' },
    });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('conflict');
    const short = await call(s.gw.url, 'POST', '/v1/client/sign-up', {
      body: { email: 'short@example.com', password: 'short' },
    });
    expect(short.status).toBe(422);
  });

  it('while the auth service is down for 20 s: 202 + Location, the workflow finishes later, one account, one event; the key replays the first answer', async () => {
    const email = `outage-${uniqueSuffix()}@example.com`;
    const password = `outage-secret-${uniqueSuffix()}`;
    const key = `signup-${uniqueSuffix()}`;
    await s.fake.setDown(true, 'refuse');
    const downAt = Date.now();
    let first;
    try {
      first = await call(s.gw.url, 'POST', '/v1/client/sign-up', {
        body: { email, password },
        headers: { 'idempotency-key': key },
      });
      expect(first.status).toBe(202);
      // The operation id is sealed: it names neither the e-mail nor its hash.
      expect(first.body).toEqual({ operation_id: expect.stringMatching(/^sign-up:/), status: 'running' });
      expect(first.body.operation_id).not.toContain(signUpWorkflowId(email).slice('sign-up/'.length));
      expect(first.headers.location).toBe(`/v1/operations/${encodeURIComponent(first.body.operation_id)}`);
      const op = await call(s.gw.url, 'GET', String(first.headers.location));
      expect(op.status).toBe(200);
      expect(op.body).toMatchObject({ id: first.body.operation_id, kind: 'sign-up', status: 'running' });
      expect(op.body.result).toBeUndefined();
      // A client retry without the key (same password) joins the same workflow.
      const retry = await call(s.gw.url, 'POST', '/v1/client/sign-up', { body: { email, password } });
      expect(retry.status).toBe(202);
      const joined = await call(s.gw.url, 'GET', `/v1/operations/${encodeURIComponent(retry.body.operation_id)}`);
      expect(joined.body).toMatchObject({ kind: 'sign-up', status: 'running', created_at: op.body.created_at });
      await new Promise((r) => setTimeout(r, Math.max(0, 20_000 - (Date.now() - downAt))));
    } finally {
      await s.fake.setDown(false);
    }
    const client = s.gw.deps.temporal.client;
    const result = (await client.workflow.getHandle(signUpWorkflowId(email)).result()) as {
      user_id: string;
      email: string;
    };
    expect(result.email).toBe(email);
    expect([...s.fake.users.values()].filter((u) => u.email === email)).toHaveLength(1);
    const events = await waitFor('user_registered', async () => {
      const rows = await registeredEvents(result.user_id);
      return rows.length ? rows : undefined;
    });
    expect(events).toHaveLength(1);

    const done = await call(s.gw.url, 'GET', String(first.headers.location));
    expect(done.body).toMatchObject({ status: 'completed', kind: 'sign-up' });
    expect(done.body.result).toBeUndefined(); // readable without a token, so it never shows the result

    const replay = await call(s.gw.url, 'POST', '/v1/client/sign-up', {
      body: { email, password },
      headers: { 'idempotency-key': key },
    });
    expect(replay.status).toBe(first.status);
    expect(replay.body).toEqual(first.body);
    expect(replay.headers['idempotent-replayed']).toBe('true');

    // Read without the codec, the history holds no plaintext password.
    const raw = await Connection.connect({ address: testConfig().TEMPORAL_ADDRESS });
    try {
      const history = await new Client({ connection: raw }).workflow.getHandle(signUpWorkflowId(email)).fetchHistory();
      const text = JSON.stringify(history, (_k, v: unknown) =>
        v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v,
      );
      expect(text).not.toContain(password);
      expect(text).not.toContain(email);
      expect(text).toContain(Buffer.from('binary/encrypted').toString('base64'));
    } finally {
      await raw.close();
    }
  });

  it('GET /v1/operations/{id}: other operations need a token, and unknown ids are 404', async () => {
    expect((await call(s.gw.url, 'GET', '/v1/operations/chat-delete-all/prompts/someone/key')).status).toBe(401);
    const user = s.fake.createUser({ email: `ops-${uniqueSuffix()}@example.com`, password: 'ops-pass-12' });
    const token = (await s.fake.issueTokens(user.sub)).access_token;
    const res = await call(s.gw.url, 'GET', '/v1/operations/chat-delete-all%2Fprompts%2Fnobody%2Fnothing', { token });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('not_found');
  });
});
