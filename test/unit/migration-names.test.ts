import { migrationsList } from '../../migrations';
import { MIGRATION_NAMES } from '../../migrations/names';

describe('migration names', () => {
  it('lists every migration of migrations/index.ts, in order, for the readiness check', () => {
    expect([...MIGRATION_NAMES]).toEqual(migrationsList.map((m) => m.name));
  });
});
