import fp from 'fastify-plugin';
import type { preHandlerAsyncHookHandler } from 'fastify';
import { asArray } from '../../lib/as-array';
import { releaseStateEvent, reserveStateEvent } from '../events';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route records a state event after its upstream call: reserve its place before that call. */
    stateEvent?: boolean;
  }
}

/**
 * State-event routes take their place in the outbox write buffer in a preHandler appended after
 * the route's own (authentication, validation, Idempotency-Key), so a full buffer answers 503
 * before the upstream call; a place left unused is given back once the exchange is over.
 */
export default fp(
  async (app) => {
    app.deps.outboxWriter.registerMetrics(app.metrics);
    const reserve: preHandlerAsyncHookHandler = async function (request) {
      reserveStateEvent(app, request);
    };
    app.addHook('onRoute', (route) => {
      if (!route.config?.stateEvent) return;
      route.preHandler = [...asArray(route.preHandler), reserve];
    });
    app.requestSteps.onResponse.push(releaseStateEvent);
    app.addHook('onRequestAbort', async (request) => releaseStateEvent(request));
  },
  { name: 'state-events', dependencies: ['metrics', 'request-hooks'] },
);
