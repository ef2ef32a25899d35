import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { SwitchableListener, recordCall, type DownMode } from '../shared/listener';
import { handleUserCall } from './handlers';
import { BillingError, BillingStore, type FakeAccount } from './store';
import { readUserData, type ReceivedUserData } from './user-data';

export interface BillingFakeCall {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The decoded X-User-Data when it was acceptable. */
  userData?: ReceivedUserData;
  status?: number;
}

export type BillingDownMode = DownMode;

export interface BillingFakeModes {
  /** Liberal-reader test: nulls in optional fields, extra fields, ids as digit strings. */
  variance?: boolean;
  /** Delay before every answer. */
  delayMs?: number;
  /** Accept requests and never answer. */
  silent?: boolean;
  /** Carry out the next request to each of these paths, then cut the connection: the caller never learns it worked. */
  loseAnswersTo?: string[];
  /** A `padding` field of this many bytes in every JSON object answered: a peer answering far more than its contract's shapes. */
  padding?: number;
  /** Every answer to /internal/billing/* starts with a UTF-8 byte-order mark, as some frameworks write. */
  bom?: boolean;
}

export interface BillingFake {
  readonly url: string;
  readonly port: number;
  readonly calls: BillingFakeCall[];
  callsTo(path: string, method?: string): BillingFakeCall[];
  account(sub: string): FakeAccount | undefined;
  readonly store: BillingStore;
  setModes(modes: BillingFakeModes): void;
  /** 'refuse' closes the listener (connections fail); '503' answers every request 503. */
  setDown(down: boolean, mode?: BillingDownMode): Promise<void>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

const OPTIONAL_FIELDS = new Set(['tariff_properties', 'message', 'initial_balance', 'auto_renew']);

/** The variance mode's rewrite of a JSON answer (deep). */
function vary(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(vary);
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = { server_version: '2.3.1' };
  for (const [k, v] of Object.entries(value)) {
    if (OPTIONAL_FIELDS.has(k)) out[k] = null;
    else if ((k === 'id' || k.endsWith('_id')) && typeof v === 'number') out[k] = String(v);
    else out[k] = vary(v);
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  if (!chunks.length) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}

function send(res: ServerResponse, status: number, body: unknown, prefix = '') {
  const text = prefix + (typeof body === 'string' ? body : JSON.stringify(body));
  res.writeHead(status, {
    'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
    // What a careless upstream might send: the gateway must not pass these on.
    'set-cookie': 'billing_session=1; Path=/',
    'access-control-allow-origin': '*',
  });
  res.end(text);
}

/** A fake of the billing service (billing-service.md), on an ephemeral loopback port by default. */
export async function startBillingFake(options: { port?: number; host?: string } = {}): Promise<BillingFake> {
  let store = new BillingStore();
  const calls: BillingFakeCall[] = [];
  let modes: BillingFakeModes = {};

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const call = recordCall<BillingFakeCall>(calls, { method: req.method ?? 'GET', path, headers: { ...req.headers } });
    res.once('finish', () => (call.status = res.statusCode));
    const body = await readBody(req);
    if (modes.silent) return; // never answers; the client's deadline ends it
    if (listener.down === '503') return send(res, 503, 'Service Unavailable');
    if (modes.delayMs) await sleep(modes.delayMs);
    if (call.method === 'GET' && (path === '/health' || path === '/ready')) {
      return send(res, 200, { status: 'ok', version: 'fake' });
    }
    const user = readUserData(req.headers['x-user-data']);
    if (!path.startsWith('/internal/billing/')) return send(res, 404, { detail: 'Not Found' });
    const bom = modes.bom ? '\ufeff' : '';
    if (!user.ok) return send(res, user.status, { detail: user.detail }, bom);
    call.userData = user.value;
    try {
      const answer = handleUserCall(store, call.method, path, user.value.sub, body);
      if (!answer) return send(res, 404, { detail: 'Not Found' }, bom);
      if (modes.loseAnswersTo?.includes(path)) {
        modes = { ...modes, loseAnswersTo: modes.loseAnswersTo.filter((p) => p !== path) };
        return void req.socket.destroy();
      }
      const out = modes.variance ? vary(answer.body) : answer.body;
      send(
        res,
        answer.status,
        modes.padding && isObject(out) ? { ...out, padding: 'x'.repeat(modes.padding) } : out,
        bom,
      );
    } catch (err) {
      if (err instanceof BillingError) return send(res, err.status, err.body, bom);
      send(res, 500, 'Internal Server Error');
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  const listener = await SwitchableListener.start(server, options.host ?? '127.0.0.1', options.port ?? 0);

  return {
    url: listener.url,
    port: listener.port,
    calls,
    callsTo: (p, method) => calls.filter((c) => c.path === p && (!method || c.method === method)),
    account: (sub) => store.accounts.get(sub),
    get store() {
      return store;
    },
    setModes: (m) => {
      modes = { ...m };
      // Silent requests hang until the client gives up: drop them when leaving the mode.
      if (!m.silent) server.closeIdleConnections();
    },
    setDown: (isDown, mode) => listener.setDown(isDown, mode),
    reset: async () => {
      await listener.setDown(false);
      modes = {};
      calls.length = 0;
      store = new BillingStore();
    },
    close: () => listener.close(),
  };
}
