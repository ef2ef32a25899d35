import { Client as PgClient } from 'pg';
import { join } from 'node:path';
import { DIR, DIST, say } from './params';
import { start, tail } from './procs';

/** Creates an empty database on the stack's PostgreSQL server; returns its URL. */
export async function createDatabase(adminUrl: string, name: string): Promise<URL> {
  const pg = new PgClient({ connectionString: adminUrl });
  await pg.connect();
  try {
    await pg.query(`create database ${name}`);
  } finally {
    await pg.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url;
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const pg = new PgClient({ connectionString: adminUrl });
  try {
    await pg.connect();
    await pg.query(`drop database if exists ${name} with (force)`);
  } catch (err) {
    say(`database ${name} not dropped: ${String(err)}`);
  } finally {
    await pg.end().catch(() => undefined);
  }
}

/** Runs the gateway's migrations on `env.DATABASE_URL`. */
export async function migrateDatabase(env: Record<string, string>): Promise<void> {
  const name = new URL(env.DATABASE_URL!).pathname.slice(1);
  say(`database ${name}: migrating`);
  const migrate = start(DIR, `migrate-${name}`, process.execPath, [join(DIST, 'src/db/migrate.js')], env);
  if ((await migrate.exited) !== 0) throw new Error(`migration failed:\n${tail(migrate)}`);
}
