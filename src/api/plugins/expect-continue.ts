import fp from 'fastify-plugin';

/**
 * `Expect: 100-continue` answered by the gateway's hooks, not by Node. Node sends "100 Continue"
 * before any hook runs, so a client that waits for it would send its body even when the request is
 * about to be refused (401, 429). Handling `checkContinue` stops that: the request goes through the
 * hooks as usual, and "100 Continue" goes out in preParsing, when the body is about to be read.
 * A request refused earlier gets its final answer and never a 100.
 */
export default fp(
  async (app) => {
    app.server.on('checkContinue', (req, res) => app.server.emit('request', req, res));
    // Synchronous: it runs on every request, and an async hook costs a promise each time.
    app.addHook('preParsing', (request, reply, payload, done) => {
      const expect = request.headers.expect;
      if (typeof expect === 'string' && expect.toLowerCase() === '100-continue' && !reply.raw.headersSent) {
        reply.raw.writeContinue();
      }
      done(null, payload);
    });
  },
  { name: 'expect-continue' },
);
