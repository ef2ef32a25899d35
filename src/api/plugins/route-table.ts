import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import fp from 'fastify-plugin';
import { Counter, Gauge } from 'prom-client';
import type { Config } from '../../config';
import { LiveRouteTable } from '../../route-table/live';
import { RouteTableError, type Lookup } from '../../route-table/load';
import dispatcher from '../routes/route-table';

declare module 'fastify' {
  interface FastifyInstance {
    /** The declarative route table (config/routes.yaml) in use; see docs/adding-a-service.md. */
    routeTable: LiveRouteTable;
  }
}

/** `${NAME}` in the table: the gateway's own config first (defaults, tests' overrides), then the environment. */
function lookupIn(config: Config): Lookup {
  return (name) => {
    const value = (config as unknown as Record<string, unknown>)[name];
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
    return process.env[name];
  };
}

/**
 * Loads the route table at start (an invalid file stops the start), serves it through one
 * catch-all dispatcher, and swaps it on SIGHUP (and on file changes in development).
 */
export default fp(
  async (app) => {
    const failures = new Counter({
      name: 'gateway_routes_reload_failures_total',
      help: 'Route table reloads refused (invalid file); the previous table stays in use',
      registers: [app.metrics],
    });
    const version = new Gauge({
      name: 'gateway_routes_table_version',
      help: 'Version of the route table in use (1 at start, +1 per successful reload)',
      registers: [app.metrics],
    });
    const file = resolve(app.config.ROUTES_FILE);
    const live = new LiveRouteTable(file, lookupIn(app.config), app.log.child({ component: 'route-table' }), () =>
      failures.inc(),
    );
    try {
      await live.load();
    } catch (err) {
      if (err instanceof RouteTableError) throw new RouteTableError(`${file}: ${err.message}`);
      throw err;
    }
    version.set(live.current.version);
    app.decorate('routeTable', live);

    // Informational readiness per upstream (a shared upstream's outage must not fail readiness).
    const reported = new Set(app.deps.probes.map((p) => p.name));
    const addProbes = () => {
      for (const name of live.current.upstreams.keys()) {
        if (reported.has(name)) continue;
        reported.add(name);
        app.deps.probes.push({
          name,
          check: async () => {
            const [r] = await live.readiness(app.config.HEALTH_CHECK_TIMEOUT_MS, name);
            if (!r) throw new Error('not in the route table');
            if (r.status === 'down') throw new Error(r.error ?? 'down');
          },
        });
      }
    };
    addProbes();

    let reloading = Promise.resolve();
    const reload = () => {
      reloading = reloading.then(async () => {
        if (await live.reload()) {
          version.set(live.current.version);
          addProbes();
        }
      });
      return reloading;
    };
    const onSighup = () => void reload();
    process.on('SIGHUP', onSighup);
    let watcher: FSWatcher | undefined;
    if (app.config.NODE_ENV === 'development') {
      let timer: NodeJS.Timeout | undefined;
      // The directory, not the file: editors often save by replacing the file, which ends a watch
      // on it. They also write in several steps: reload once the file settles.
      watcher = watch(dirname(file), (_event, name) => {
        if (name !== basename(file)) return;
        clearTimeout(timer);
        timer = setTimeout(onSighup, 200);
      });
    }
    app.addHook('onClose', async () => {
      process.off('SIGHUP', onSighup);
      watcher?.close();
      await reloading;
      await live.close();
    });

    await app.register(dispatcher);
  },
  { name: 'route-table', dependencies: ['auth', 'metrics', 'errors'] },
);
