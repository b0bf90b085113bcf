import type { DataSource, EntityManager } from 'typeorm';

/**
 * Runs `work` in one transaction with `app.tenant_id` set by `SET LOCAL` (through
 * `set_config(..., true)`, which takes a bind parameter). Row-level security then
 * shows and accepts only that tenant's rows; the setting ends with the transaction,
 * so a pooled connection never carries it to the next caller.
 */
export async function withTenant<T>(
  dataSource: DataSource,
  tenantId: string,
  work: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  return dataSource.transaction(async (manager) => {
    await setTenant(manager, tenantId);
    return work(manager);
  });
}

/** Switches the tenant inside an open transaction (for batches that span tenants). */
export async function setTenant(manager: EntityManager, tenantId: string): Promise<void> {
  await manager.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId]);
}
