import { MikroORM, defineConfig, type Options } from '@mikro-orm/postgresql';
import type { Config } from '../config';
import type { Logger } from '../logger';

/*
 * MikroORM applies the migrations (`npm run migrate`, the test setup) and nothing else: the API and
 * worker processes run their statements on `pg` through `Database` (./database.ts, docs/adr/0013)
 * and never load this module.
 */

export function ormOptions(config: Pick<Config, 'DATABASE_URL' | 'DATABASE_POOL_MAX'>, logger?: Logger): Options {
  return defineConfig({
    clientUrl: config.DATABASE_URL,
    // No entities: the stores in src/db/ write their SQL by hand (docs/adr/0011, 0013).
    entities: [],
    pool: { min: 0, max: config.DATABASE_POOL_MAX, idleTimeoutMillis: 30_000 },
    // Bounded waits everywhere: connecting (5 s), waiting for a pooled connection (5 s; knex's
    // default of 60 s would hold requests for a minute while PostgreSQL is down), each statement (15 s).
    driverOptions: {
      acquireConnectionTimeout: 5_000,
      // knex reports pool trouble (e.g. a connection PostgreSQL closed) with console.log by default.
      log: {
        warn: (msg: unknown) => logger?.warn({ component: 'knex' }, String(msg)),
        error: (msg: unknown) => logger?.warn({ component: 'knex' }, String(msg)),
        deprecate: (msg: unknown) => logger?.debug({ component: 'knex' }, String(msg)),
        debug: (msg: unknown) => logger?.debug({ component: 'knex' }, String(msg)),
      },
      connection: { statement_timeout: 15_000, connectionTimeoutMillis: 5_000 },
    },
    // The migrator and the migration classes are loaded by `migrate()` only (see there).
    migrations: {
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      tableName: 'mikro_orm_migrations',
    },
    discovery: { warnWhenNoEntities: false },
    debug: false,
    logger: (msg) => logger?.debug({ component: 'orm' }, msg),
    // The database may not be up yet when a process boots; readiness reports it instead of crashing.
    connect: false,
  });
}

export async function initOrm(
  config: Pick<Config, 'DATABASE_URL' | 'DATABASE_POOL_MAX'>,
  logger?: Logger,
): Promise<MikroORM> {
  return MikroORM.init(ormOptions(config, logger));
}

/** Applies pending migrations; returns the names applied. */
export async function migrate(orm: MikroORM): Promise<string[]> {
  const [{ Migrator }, { migrationsList }] = await Promise.all([
    import('@mikro-orm/migrations'),
    import('../../migrations'),
  ]);
  orm.config.set('migrations', { ...orm.config.get('migrations'), migrationsList });
  Migrator.register(orm);
  const applied = await orm.getMigrator().up();
  return applied.map((m) => m.name);
}
