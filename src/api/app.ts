import { randomUUID } from 'node:crypto';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyServerOptions,
} from 'fastify';
import { symbols as pinoSymbols } from 'pino';
import fp from 'fastify-plugin';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from '../config';
import { redactUrl, type Logger } from '../logger';
import type { GatewayDependencies } from './dependencies';
import errors from './plugins/errors';
import metrics from './plugins/metrics';
import idempotency from './plugins/idempotency';
import healthRoutes from './routes/health';
// `/index`: a build output from before the split (routes/chat.js) would otherwise win the lookup.
import { chatSettingsRoutes } from './routes/chat/index';
import asyncApiRoutes from './routes/asyncapi';
import codecRoutes from './routes/codec';
import auth from './plugins/auth';
import rateLimit from './plugins/rate-limit';
import clientRoutes from './routes/client';
import authenticatedRoutes from './routes/authenticated';
import internalRoutes from './routes/internal';
import signUpRoutes from './routes/sign-up';
import operationRoutes from './routes/operations';
import { ErrorResponse } from './schemas';
import { cutUpdateWaitsShort } from '../temporal/update-with-start';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    deps: GatewayDependencies;
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

    app.addHook('onRequest', async (request, reply) => {
      void reply.header('x-request-id', request.id);
    });
    // While draining, answer in-flight requests with `Connection: close`, so kept-alive client
    // connections end with their last response instead of holding shutdown open.
    let draining = false;
    let chatClosed: Promise<void> | undefined;
    app.addHook('preClose', async () => {
      draining = true;
      // Waits longer than the grace end now: chat calls answer 503, update waits 202 (or 503).
      cutUpdateWaitsShort();
      chatClosed = deps.chat.close().catch((err: unknown) => app.log.warn({ err }, 'chat client close failed'));
    });
    app.addHook('onClose', async () => {
      await chatClosed;
    });
    app.addHook('onSend', async (_request, reply) => {
      if (draining) void reply.header('connection', 'close');
    });
    app.addHook('onResponse', async (request, reply) => {
      // Query strings may carry tokens (/auth/validate?token=): never log them raw.
      request.log.info(
        {
          method: request.method,
          url: redactUrl(request.url),
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 10) / 10,
        },
        'request completed',
      );
    });

    await app.register(errors);
    await app.register(metrics);
    deps.relay?.registerMetrics(app.metrics);
    deps.chat.registerMetrics(app.metrics);
    deps.accessEvents.registerMetrics(app.metrics);
    await app.register(idempotency, { orm: deps.orm, config });
    // The API answers the front ends' origins; the codec endpoint only Temporal UI's.
    await app.register(cors, {
      delegator: (req, cb) => {
        const codec = (req.url ?? '').startsWith('/codec/');
        const origins = codec ? config.TEMPORAL_UI_ORIGINS : config.CORS_ORIGINS;
        cb(null, {
          origin: origins.length ? origins : false,
          credentials: true,
          maxAge: 600,
          exposedHeaders: ['X-Request-Id', 'X-Total-Count', 'Location', 'Retry-After'],
        });
      },
    });
    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'Durable API gateway',
          version: '0.1.0',
          description: 'One front door for the auth and chat services. Errors use {detail, code, request_id}.',
        },
        components: {
          securitySchemes: {
            bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
            internalKey: { type: 'apiKey', in: 'header', name: 'X-Internal-Key' },
          },
        },
      },
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });

    app.addSchema(ErrorResponse);
    await app.register(auth);
    await app.register(rateLimit);

    await app.register(healthRoutes);
    await app.register(codecRoutes);
    await app.register(clientRoutes);
    await app.register(authenticatedRoutes);
    await app.register(internalRoutes);
    await app.register(signUpRoutes);
    await app.register(operationRoutes);
    await app.register(chatSettingsRoutes);
    await app.register(asyncApiRoutes);
  },
  { name: 'gateway-app' },
);

type LogFormatter = (object: object) => object;

/**
 * The per-request child logger, with the request id added to each line it writes instead of bound
 * at creation. pino passes every binding of a new child through the redaction of the `*.`-prefixed
 * paths in src/logger.ts: about 5 µs and 20 KB of garbage per request (a third of all the bytes the
 * direct path allocated), even when the request never logs (LOG_LEVEL=warn). Adding the bindings
 * when a line is written costs nothing for requests that do not log; lines keep the same fields in
 * the same order (`request_id` first after the logger's own fields), and grandchildren inherit them.
 */
export const requestChildLogger: NonNullable<FastifyServerOptions['childLoggerFactory']> = (
  parent,
  bindings,
  options,
) => {
  const parentLog = (parent as FastifyBaseLogger & { [pinoSymbols.formattersSym]?: { log?: LogFormatter } })[
    pinoSymbols.formattersSym
  ]?.log;
  const log: LogFormatter = (object) => {
    const merged = { ...bindings, ...object };
    return parentLog ? parentLog(merged) : merged;
  };
  return parent.child({}, { ...options, formatters: { ...options.formatters, log } });
};

export function serverOptions(config: Config, logger: Logger): FastifyServerOptions {
  return {
    loggerInstance: logger,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    // One access-log line per request, written by an onResponse hook with the query string redacted.
    logController: new LogController({ requestIdLogLabel: 'request_id', disableRequestLogging: true }),
    childLoggerFactory: requestChildLogger,
    bodyLimit: config.BODY_LIMIT_BYTES,
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    keepAliveTimeout: 72_000,
    return503OnClosing: true,
    trustProxy: config.TRUST_PROXY,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true },
    ajv: { customOptions: { removeAdditional: 'all', coerceTypes: 'array', allErrors: true } },
  };
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
