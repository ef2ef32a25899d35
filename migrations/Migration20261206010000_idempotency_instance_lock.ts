import { Migration } from '@mikro-orm/migrations';

export class Migration20261206010000_idempotency_instance_lock extends Migration {
  override up(): void {
    // The advisory lock id of the gateway instance that claimed the key (src/idempotency/instance.ts):
    // while that lock is held the claim's request may still be running; once it is gone, another
    // replica may take the claim over. Null for claims made before: they wait for locked_until.
    this.addSql('alter table idempotency_keys add column instance_lock integer null;');
  }

  override down(): void {
    this.addSql('alter table idempotency_keys drop column if exists instance_lock;');
  }
}
