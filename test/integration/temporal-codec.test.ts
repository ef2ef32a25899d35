import { Client, Connection } from '@temporalio/client';
import { createLogger } from '../../src/logger';
import { echoWorkflow } from '../../src/workflows';
import { createWorker, type GatewayWorker } from '../../src/workers/worker';
import { call, startGateway, type RunningGateway } from '../support/gateway';
import { testConfig, uniqueSuffix } from '../support/stack';

jest.setTimeout(120_000);

const SECRET = `plaintext-marker-${uniqueSuffix()}`;
const CODEC_KEY = Buffer.alloc(32, 42).toString('base64');

describe('workflow through the worker on the real Temporal server', () => {
  const config = testConfig({ TEMPORAL_CODEC_KEYS: `it-key:${CODEC_KEY}`, INTERNAL_SERVICE_KEY: 'test-internal-key' });
  const taskQueue = `test-echo-${uniqueSuffix()}`;
  let gw: GatewayWorker;
  let gateway: RunningGateway;
  let raw: Connection;
  let workflowId: string;
  let result: unknown;

  beforeAll(async () => {
    gw = await createWorker(config, createLogger('silent'), { taskQueue });
    gateway = await startGateway(config);
    raw = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
    workflowId = `diagnostics-echo/${uniqueSuffix()}`;
    result = await gw.worker.runUntil(
      gateway.deps.temporal.client.workflow.execute(echoWorkflow, {
        taskQueue,
        workflowId,
        args: [{ message: SECRET }],
      }),
    );
  });

  afterAll(async () => {
    await raw?.close();
    await gateway?.close();
    await gw?.close();
  });

  it('runs the workflow and its activity through the worker', () => {
    expect(result).toMatchObject({ message: SECRET, workflowId });
  });

  async function historyPayloads() {
    // A client with no codec: what anyone with access to Temporal's storage or UI sees.
    const client = new Client({ connection: raw, namespace: config.TEMPORAL_NAMESPACE });
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const payloads: { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null }[] = [];
    const walk = (v: unknown) => {
      if (!v || typeof v !== 'object') return;
      if (Array.isArray(v)) return v.forEach(walk);
      const o = v as Record<string, unknown>;
      if ('metadata' in o && 'data' in o && o.data instanceof Uint8Array) payloads.push(o);
      Object.values(o).forEach(walk);
    };
    walk(history.events);
    return { history, payloads };
  }

  it('stores only ciphertext in the history', async () => {
    const { history, payloads } = await historyPayloads();
    // input, activity input, activity result, workflow result
    expect(payloads.length).toBeGreaterThanOrEqual(4);
    for (const p of payloads) {
      expect(Buffer.from(p.metadata!.encoding!).toString()).toBe('binary/encrypted');
      expect(Buffer.from(p.metadata!['encryption-key-id']!).toString()).toBe('it-key');
    }
    const serialized = JSON.stringify(history, (_k, v: unknown) =>
      v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v,
    );
    expect(serialized).not.toContain(SECRET);
  });

  it('shows the original values through the codec endpoint', async () => {
    const { payloads } = await historyPayloads();
    const body = {
      payloads: payloads.map((p) => ({
        metadata: Object.fromEntries(
          Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
        ),
        data: Buffer.from(p.data!).toString('base64'),
      })),
    };
    const res = await call(gateway.admin, 'POST', '/codec/decode', {
      headers: { 'x-internal-key': 'test-internal-key', 'x-namespace': 'default' },
      body,
    });
    expect(res.status).toBe(200);
    const decoded = res.body as { payloads: { metadata: Record<string, string>; data: string }[] };
    const values = decoded.payloads.map((p) => Buffer.from(p.data, 'base64').toString('utf8'));
    expect(decoded.payloads.every((p) => Buffer.from(p.metadata.encoding!, 'base64').toString() === 'json/plain')).toBe(
      true,
    );
    expect(values.some((v) => v.includes(SECRET))).toBe(true);
  });

  it('does not serve the codec on the public port, whatever the Origin says', async () => {
    const res = await call(gateway.app, 'POST', '/codec/decode', {
      headers: { origin: config.TEMPORAL_UI_ORIGINS[0]! },
      body: { payloads: [] },
    });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('not_found');
  });

  it('answers Temporal UI with CORS on the admin listener', async () => {
    const origin = config.TEMPORAL_UI_ORIGINS[0]!;
    const pre = await call(gateway.admin, 'OPTIONS', '/codec/decode', {
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-namespace',
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe(origin);
    const res = await call(gateway.admin, 'POST', '/codec/encode', {
      headers: { origin },
      body: {
        payloads: [
          {
            metadata: { encoding: Buffer.from('json/plain').toString('base64') },
            data: Buffer.from('"x"').toString('base64'),
          },
        ],
      },
    });
    expect(res.status).toBe(200);
    const out = res.body as { payloads: { metadata: Record<string, string> }[] };
    expect(Buffer.from(out.payloads[0]!.metadata.encoding!, 'base64').toString()).toBe('binary/encrypted');
  });
});
