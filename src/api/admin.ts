import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { serverOptions } from './app';
import { withInternal } from './openapi';
import accessLog from './plugins/access-log';
import requestHooks from './plugins/request-hooks';
import corsPolicy from './plugins/cors';
import closing from './plugins/closing';
import errors from './plugins/errors';
import codecRoutes from './routes/codec';
import { ErrorResponse } from './schemas';

/**
 * The admin listener (ADMIN_HOST:ADMIN_PORT, loopback by default): the Temporal payload codec,
 * Prometheus metrics and the docs of the internal /auth/* routes. None of it is on the public port.
 * It shares the gateway's dependencies and metrics registry; see docs/operations-admin.md.
 */
export async function createAdminServer(config: Config, logger: Logger, gateway: FastifyInstance) {
  // Operators and Prometheus connect directly: no proxy hop to trust.
  const admin = Fastify({ ...serverOptions(config, logger), trustProxy: false });
  admin.decorate('config', config);
  admin.decorate('deps', gateway.deps);
  await admin.register(requestHooks);
  await admin.register(accessLog);
  await admin.register(errors);
  await admin.register(closing);
  // Temporal UI calls the codec from the operator's browser.
  await admin.register(corsPolicy, { origins: config.TEMPORAL_UI_ORIGINS });
  await admin.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Durable API gateway: internal and admin routes', version: '0.1.0' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          internalKey: { type: 'apiKey', in: 'header', name: 'X-Internal-Key' },
        },
      },
    },
    transformObject: withInternal(() => gateway.internalOpenApi()),
  });
  await admin.register(swaggerUi, { routePrefix: '/docs' });
  admin.addSchema(ErrorResponse);
  await admin.register(codecRoutes);
  admin.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    void reply.type(gateway.metrics.contentType);
    return gateway.metrics.metrics();
  });
  return admin;
}
