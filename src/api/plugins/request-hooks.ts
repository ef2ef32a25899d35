import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** One concern's share of the per-request work: runs synchronously, may throw (onRequest only). */
export type RequestStep = (request: FastifyRequest, reply: FastifyReply) => void;

export interface RequestSteps {
  onRequest: RequestStep[];
  onResponse: RequestStep[];
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The steps the one onRequest and one onResponse hook run, in the order their plugins were registered. */
    requestSteps: RequestSteps;
  }
}

/**
 * The gateway's own per-request bookkeeping (request id header, CORS preflight check, access-log
 * line, metrics, state-event release) in one synchronous onRequest and one onResponse hook:
 * Fastify runs every hook through its hook runner, and an `async` one costs a promise and a
 * microtask on every request. Each concern's plugin adds its steps here. A step that throws in
 * onRequest answers the request with that error, as a throwing hook did; an onResponse step that
 * throws is logged and the next steps still run.
 */
export default fp(
  async (app) => {
    const steps: RequestSteps = { onRequest: [], onResponse: [] };
    app.decorate('requestSteps', steps);
    app.addHook('onRequest', (request, reply, done) => {
      try {
        for (const step of steps.onRequest) step(request, reply);
      } catch (err) {
        done(err as Error);
        return;
      }
      done();
    });
    app.addHook('onResponse', (request, reply, done) => {
      for (const step of steps.onResponse) {
        try {
          step(request, reply);
        } catch (err) {
          request.log.error({ err }, 'onResponse step failed');
        }
      }
      done();
    });
  },
  { name: 'request-hooks' },
);
