import { Migration20261127000000_outbox } from './Migration20261127000000_outbox';

/** Every migration, in order. Listed explicitly so the compiled image needs no file globbing. */
export const migrationsList = [{ name: 'Migration20261127000000_outbox', class: Migration20261127000000_outbox }];
