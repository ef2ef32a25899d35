/**
 * The floor of the direct proxy on this runtime: a bare Fastify + undici reverse proxy for
 * `GET /v1/client/me`, with nothing of the gateway's own work (no token check, no denylist, no
 * outbox event, no metrics, no response schema). It runs with the gateway's runtime settings and
 * the gateway's upstream Agent options, so "floor / nginx" in the same round is the most any
 * Fastify + undici gateway reaches on the machine, and "gateway / floor" is what the gateway's own
 * work costs. `node dist/bench/floor.js` with PORT and AUTH_SERVICE_URL; SIGTERM stops it.
 */
import Fastify from 'fastify';
import { Agent, request } from 'undici';
import { AUTH_AGENT_OPTIONS } from '../src/upstreams/auth-service';

const port = Number(process.env.PORT);
const upstream = process.env.AUTH_SERVICE_URL;
if (!Number.isInteger(port) || !upstream) {
  process.stderr.write('usage: PORT=… AUTH_SERVICE_URL=… node dist/bench/floor.js\n');
  process.exit(2);
}

const dispatcher = new Agent(AUTH_AGENT_OPTIONS);
const app = Fastify({ logger: false, keepAliveTimeout: 72_000 });

app.get('/health', async () => ({ status: 'ok' }));
app.get('/v1/client/me', async (req, reply) => {
  const res = await request(`${upstream}/v1/client/me`, {
    method: 'GET',
    headers: { authorization: req.headers.authorization ?? '' },
    dispatcher,
    headersTimeout: 8_000,
    bodyTimeout: 8_000,
  });
  const body = await res.body.text();
  return reply
    .status(res.statusCode)
    .header('content-type', res.headers['content-type'] ?? 'application/json')
    .send(body);
});

app.listen({ host: '127.0.0.1', port }).catch((err: unknown) => {
  process.stderr.write(`floor proxy: ${String(err)}\n`);
  process.exit(1);
});
const close = () => void app.close().finally(() => process.exit(0));
process.on('SIGTERM', close);
process.on('SIGINT', close);
