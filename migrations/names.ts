/**
 * The names of every migration, in order, without their classes: the gateway checks them against
 * the database for /health/ready and must not load the migrator to do so. index.ts lists the same
 * names (test/unit/migration-names.test.ts keeps them together).
 */
export const MIGRATION_NAMES = [
  'Migration20261127000000_outbox',
  'Migration20261127010000_idempotency',
  'Migration20261127020000_revoked_tokens',
  'Migration20261127030000_org_invites',
  'Migration20261127040000_outbox_json',
  'Migration20261206000000_outbox_parked_and_lease',
  'Migration20261206000000_upstream_invites',
  'Migration20261206010000_idempotency_instance_lock',
] as const;
