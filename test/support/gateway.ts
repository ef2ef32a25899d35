import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { createAdminServer } from '../../src/api/admin';
import { createServer } from '../../src/api/app';
import { createDependencies, type GatewayDependencies } from '../../src/api/dependencies';
import type { Config } from '../../src/config';
import { createLogger } from '../../src/logger';

export interface RunningGateway {
  app: FastifyInstance;
  deps: GatewayDependencies;
  url: string;
  /** The admin listener (/codec/*, /metrics, internal docs), on its own ephemeral loopback port. */
  admin: FastifyInstance;
  adminUrl: string;
  close(): Promise<void>;
}

/** A real gateway on an ephemeral loopback port, wired to the real stack. */
export async function startGateway(
  config: Config,
  beforeListen?: (app: FastifyInstance) => void,
  logDestination?: DestinationStream,
): Promise<RunningGateway> {
  const logger = createLogger(config.LOG_LEVEL, {}, logDestination);
  const deps = await createDependencies(config, logger);
  const app = await createServer(config, logger, deps);
  beforeListen?.(app);
  const admin = await createAdminServer(config, logger, app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  await admin.listen({ host: '127.0.0.1', port: 0 });
  return {
    app,
    deps,
    url: urlOf(app),
    admin,
    adminUrl: urlOf(admin),
    async close() {
      await Promise.all([app.close(), admin.close()]);
      await deps.close();
    },
  };
}

function urlOf(app: FastifyInstance): string {
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return `http://127.0.0.1:${port}`;
}
