import type { Sql } from './database';
import { MIGRATION_NAMES } from '../../migrations/names';

/** The migrations of this build that the database has not applied (all of them without the table). */
export async function pendingMigrations(db: Sql): Promise<string[]> {
  const rows = await db.execute<{ name: string }[]>('select name from mikro_orm_migrations').catch((err: unknown) => {
    if (/mikro_orm_migrations" does not exist/.test(String(err))) return [];
    throw err;
  });
  const applied = new Set(rows.map((r) => r.name));
  return MIGRATION_NAMES.filter((name) => !applied.has(name));
}
