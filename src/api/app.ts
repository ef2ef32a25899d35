import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import fp from 'fastify-plugin';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { GatewayDependencies } from './dependencies';
import closing from './plugins/closing';
import errors from './plugins/errors';
import accessLog from './plugins/access-log';
import requestHooks from './plugins/request-hooks';
import corsPolicy from './plugins/cors';
import { publicOnly, type InternalDocs } from './openapi';
import expectContinue from './plugins/expect-continue';
import metrics from './plugins/metrics';
import stateEvents from './plugins/state-events';
import idempotency from './plugins/idempotency';
import openapi from './plugins/openapi';
import healthRoutes from './routes/health';
// `/index`: a build output from before the split (routes/chat.js) would otherwise win the lookup.
import { chatSettingsRoutes } from './routes/chat/index';
import asyncApiRoutes from './routes/asyncapi';
import auth from './plugins/auth';
import rateLimit from './plugins/rate-limit';
import clientRoutes from './routes/client';
import authenticatedRoutes from './routes/authenticated';
import internalRoutes from './routes/internal';
import signUpRoutes from './routes/sign-up';
import operationRoutes from './routes/operations';
import routeTable from './plugins/route-table';
import billingRoutes from './routes/billing';
import { withRouteTable } from '../route-table/openapi';
import { ErrorResponse, canonicalUuidsWhereDeclared } from './schemas';
import { isDataUrl } from '../chat/data-url';
import { requireDeclaredBody, strictBodyValidators } from './validation';
import { clientErrorHandler, frameworkErrors } from './framework-errors';
import loadShedding from './plugins/load-shedding';
import { cutUpdateWaitsShort } from '../temporal/update-with-start';
import { cutOperationWaitsShort } from '../temporal/operations';
import { requestChildLogger } from './request-logger';
import { randomUuid } from '../lib/uuid';

export { requestChildLogger };

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    deps: GatewayDependencies;
    /** The OpenAPI paths of the internal routes, left out of the public document. */
    internalOpenApi: () => InternalDocs;
  }
}

export interface GatewayAppOptions {
  config: Config;
  deps: GatewayDependencies;
}

/** The gateway as a Fastify plugin: everything but the listening socket. */
export const gatewayApp = fp<GatewayAppOptions>(
  async (app, { config, deps }) => {
    app.decorate('config', config);
    app.decorate('deps', deps);

    app.addHook('onRoute', canonicalUuidsWhereDeclared);
    let chatClosed: Promise<void> | undefined;
    app.addHook('preClose', async () => {
      // Waits longer than the grace end now: chat calls answer 503, update and workflow-result
      // waits 202 (or 503).
      cutUpdateWaitsShort();
      cutOperationWaitsShort();
      chatClosed = deps.chat.close().catch((err: unknown) => app.log.warn({ err }, 'chat client close failed'));
    });
    app.addHook('onClose', async () => {
      await chatClosed;
    });
    // While draining (plugins/closing.ts), answer in-flight requests with `Connection: close`, so
    // kept-alive client connections end with their last response instead of holding shutdown open.
    app.addHook('onSend', (_request, reply, payload, done) => {
      if (app.shuttingDown) void reply.header('connection', 'close');
      done(null, payload);
    });
    await app.register(requestHooks);
    await app.register(accessLog);
    await app.register(errors);
    await app.register(closing);
    await app.register(loadShedding, { config });
    await app.register(expectContinue);
    await app.register(metrics);
    deps.relay?.registerMetrics(app.metrics);
    deps.chat.registerMetrics(app.metrics);
    deps.accessEvents.registerMetrics(app.metrics);
    await app.register(idempotency, { db: deps.db, config });
    await app.register(stateEvents);
    await app.register(corsPolicy, { origins: config.CORS_ORIGINS });
    // The internal /auth/* routes are documented on the admin listener only (src/api/admin.ts).
    const internalDocs: InternalDocs = { paths: {}, schemas: {} };
    app.decorate('internalOpenApi', () => {
      app.swagger(); // generates (once) the document, which fills internalDocs
      return internalDocs;
    });
    await app.register(openapi, {
      transformObject: (doc) =>
        'openapiObject' in doc
          ? withRouteTable(publicOnly(internalDocs)(doc) as typeof doc.openapiObject, () =>
              app.hasDecorator('routeTable') ? app.routeTable.current : undefined,
            )
          : doc.swaggerObject,
    });

    app.addSchema(ErrorResponse);
    app.addHook('onRoute', requireDeclaredBody);
    await app.register(auth);
    await app.register(rateLimit);

    await app.register(healthRoutes);
    await app.register(clientRoutes);
    await app.register(authenticatedRoutes);
    await app.register(internalRoutes);
    await app.register(signUpRoutes);
    await app.register(operationRoutes);
    await app.register(chatSettingsRoutes);
    await app.register(asyncApiRoutes);
    await app.register(routeTable);
    await app.register(billingRoutes);
  },
  { name: 'gateway-app' },
);

export function serverOptions(config: Config, logger: Logger): FastifyServerOptions {
  return {
    loggerInstance: logger,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUuid();
    },
    // One access-log line per request, written by an onResponse hook with the query string redacted.
    logController: new LogController({ requestIdLogLabel: 'request_id', disableRequestLogging: true }),
    childLoggerFactory: requestChildLogger,
    bodyLimit: config.BODY_LIMIT_BYTES,
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    keepAliveTimeout: 72_000,
    // plugins/closing.ts answers instead, in the error format with Retry-After.
    return503OnClosing: false,
    trustProxy: trustProxyOption(config.TRUST_PROXY),
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true },
    ajv: {
      customOptions: {
        removeAdditional: 'all',
        coerceTypes: 'array',
        allErrors: true,
        formats: { 'data-url': isDataUrl },
      },
    },
    schemaController: { compilersFactory: { buildValidator: strictBodyValidators() } },
    frameworkErrors,
    clientErrorHandler,
  };
}

/** A hop count becomes proxy-addr's own hop test (`i < n`); Fastify's types take no number. */
function trustProxyOption(trust: Config['TRUST_PROXY']): FastifyServerOptions['trustProxy'] {
  return typeof trust === 'number' ? (_address: string, hop: number) => hop < trust : trust;
}

/** Builds a ready-to-listen gateway (used by server.ts and by tests). */
export async function createServer(
  config: Config,
  logger: Logger,
  deps: GatewayDependencies,
): Promise<FastifyInstance> {
  const app = Fastify(serverOptions(config, logger)).withTypeProvider<TypeBoxTypeProvider>();
  await app.register(gatewayApp, { config, deps });
  return app;
}
