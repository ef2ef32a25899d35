import { MikroORM, defineConfig, type EntityManager, type Options } from '@mikro-orm/postgresql';
import type { Config } from '../config';
import type { Logger } from '../logger';

/** What a store runs its SQL on: `orm.em` (the pool) or the `em` of a transaction (docs/adr/0011). */
export type Sql = Pick<EntityManager, 'execute'>;

export function ormOptions(config: Pick<Config, 'DATABASE_URL' | 'DATABASE_POOL_MAX'>, logger?: Logger): Options {
  return defineConfig({
    clientUrl: config.DATABASE_URL,
    // No entities: the stores in src/db/ write their SQL by hand (docs/adr/0011).
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

/**
 * Applies pending migrations; returns the names applied. The migrator (umzug and its
 * dependencies) and the migration classes are loaded here, on first use, so that the gateway and
 * worker processes, which never migrate, do not carry them in memory.
 */
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
