import fp from 'fastify-plugin';
import type { preParsingHookHandler } from 'fastify';

/** Methods Fastify never reads a body for (its `bodyless` set): nothing to continue, count or limit. */
export const BODYLESS_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'TRACE']);

// Synchronous: an async hook costs a promise on every request.
const sendContinue: preParsingHookHandler = (request, reply, payload, done) => {
  const expect = request.headers.expect;
  if (typeof expect === 'string' && expect.toLowerCase() === '100-continue' && !reply.raw.headersSent) {
    reply.raw.writeContinue();
  }
  done(null, payload);
};

/**
 * `Expect: 100-continue` answered by the gateway's hooks, not by Node. Node sends "100 Continue"
 * before any hook runs, so a client that waits for it would send its body even when the request is
 * about to be refused (401, 413, 429). Handling `checkContinue` stops that: the request goes through
 * the hooks as usual, and "100 Continue" goes out in preParsing, when the body is about to be read,
 * after the route's own preParsing checks. A request refused earlier gets its final answer and never
 * a 100. The hook is a route hook of routes that take a body only: a GET's preParsing step would be
 * one more hook run (and a bound function) on every read for nothing, and a path no route matches is
 * answered without reading its body.
 */
export default fp(
  async (app) => {
    app.server.on('checkContinue', (req, res) => app.server.emit('request', req, res));
    app.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      if (methods.every((method) => BODYLESS_METHODS.has(method))) return;
      const own =
        route.preParsing === undefined ? [] : Array.isArray(route.preParsing) ? route.preParsing : [route.preParsing];
      route.preParsing = [...own, sendContinue];
    });
  },
  { name: 'expect-continue' },
);
