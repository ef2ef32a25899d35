/**
 * An upstream that is never the bottleneck: answers `GET /v1/client/me` with a fixed JSON body
 * (STATIC_ME_JSON, the auth fake's answer for the bench user), the route table's billing path
 * `/internal/billing/subscription` with STATIC_SUBSCRIPTION_JSON when set, and `/health` with 200,
 * nothing else. The gateway verifies tokens itself against the JWKS, so the auth service's own
 * check adds nothing to what the direct scenario measures. `node dist/bench/static-upstream.js` with PORT.
 */
import { createServer } from 'node:http';

const port = Number(process.env.PORT);
const me = Buffer.from(process.env.STATIC_ME_JSON ?? '');
if (!Number.isInteger(port) || me.length === 0) {
  process.stderr.write('usage: PORT=… STATIC_ME_JSON=… node dist/bench/static-upstream.js\n');
  process.exit(2);
}
const health = Buffer.from('{"status":"ok"}');
const bodies = new Map([
  ['/v1/client/me', me],
  ['/health', health],
]);
if (process.env.STATIC_SUBSCRIPTION_JSON)
  bodies.set('/internal/billing/subscription', Buffer.from(process.env.STATIC_SUBSCRIPTION_JSON));

const server = createServer((req, res) => {
  const body = bodies.get(req.url ?? '');
  if (!body) {
    res.writeHead(404, { 'content-length': 0 }).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }).end(body);
});
server.keepAliveTimeout = 72_000;
server.listen(port, '127.0.0.1');
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
