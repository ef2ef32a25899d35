import { Migration20261127000000_outbox } from './Migration20261127000000_outbox';
import { Migration20261127010000_idempotency } from './Migration20261127010000_idempotency';
import { Migration20261127020000_revoked_tokens } from './Migration20261127020000_revoked_tokens';
import { Migration20261127030000_org_invites } from './Migration20261127030000_org_invites';
import { Migration20261127040000_outbox_json } from './Migration20261127040000_outbox_json';
import { Migration20261206000000_outbox_parked_and_lease } from './Migration20261206000000_outbox_parked_and_lease';
import { Migration20261206000000_upstream_invites } from './Migration20261206000000_upstream_invites';
import { Migration20261206010000_idempotency_instance_lock } from './Migration20261206010000_idempotency_instance_lock';

/** Every migration, in order. Listed explicitly so the compiled image needs no file globbing. */
export const migrationsList = [
  { name: 'Migration20261127000000_outbox', class: Migration20261127000000_outbox },
  { name: 'Migration20261127010000_idempotency', class: Migration20261127010000_idempotency },
  { name: 'Migration20261127020000_revoked_tokens', class: Migration20261127020000_revoked_tokens },
  { name: 'Migration20261127030000_org_invites', class: Migration20261127030000_org_invites },
  { name: 'Migration20261127040000_outbox_json', class: Migration20261127040000_outbox_json },
  { name: 'Migration20261206000000_outbox_parked_and_lease', class: Migration20261206000000_outbox_parked_and_lease },
  { name: 'Migration20261206000000_upstream_invites', class: Migration20261206000000_upstream_invites },
  {
    name: 'Migration20261206010000_idempotency_instance_lock',
    class: Migration20261206010000_idempotency_instance_lock,
  },
];
