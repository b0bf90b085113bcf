import { Inject, Injectable } from '@nestjs/common';
import type { AuthSettings } from '@tenantry/contracts';
import {
  CURRENT_TENANT,
  query,
  TenantTransactions,
  type PreparedStatement,
  type Statement,
} from '@tenantry/persistence';
import type { EntityManager } from 'typeorm';

/** The stored settings of a tenant: any subset of the fields (the rest are the defaults). */
export type StoredAuthSettings = Partial<Omit<AuthSettings, 'tenantId'>>;

const FIND_CURRENT: PreparedStatement = {
  name: 'auth-settings.find-current',
  text: `SELECT settings FROM auth_settings WHERE tenant_id = ${CURRENT_TENANT}`,
};

/** The only code that touches auth_settings; every query runs under the tenant's row-level security. */
@Injectable()
export class AuthSettingsRepository {
  constructor(@Inject(TenantTransactions) private readonly tx: TenantTransactions) {}

  /** The tenant's stored settings, in the caller's transaction; null when it never changed any. */
  async find(manager: EntityManager, tenantId: string): Promise<StoredAuthSettings | null> {
    const [row]: { settings: StoredAuthSettings }[] = await manager.query(
      `SELECT settings FROM auth_settings WHERE tenant_id = $1`,
      [tenantId],
    );
    return row?.settings ?? null;
  }

  /** `find` as a statement of a batch (TenantTransactions.batch): the settings of the tenant it runs as. */
  findStatement(): Statement<StoredAuthSettings | null> {
    return query(
      FIND_CURRENT,
      [],
      ([row]) => (row?.settings as StoredAuthSettings | undefined) ?? null,
    );
  }

  /**
   * Sets the given fields and keeps the others, atomically (two concurrent changes of
   * different fields both stay), in the caller's transaction; returns what is stored now.
   */
  async merge(
    manager: EntityManager,
    tenantId: string,
    change: StoredAuthSettings,
  ): Promise<StoredAuthSettings> {
    const [row]: { settings: StoredAuthSettings }[] = await manager.query(
      `INSERT INTO auth_settings (tenant_id, settings, updated_at) VALUES ($1, $2::jsonb, now())
       ON CONFLICT (tenant_id) DO UPDATE
         SET settings = auth_settings.settings || EXCLUDED.settings, updated_at = now()
       RETURNING settings`,
      [tenantId, JSON.stringify(change)],
    );
    return row!.settings;
  }

  /** `find` in a transaction of its own. */
  findOne(tenantId: string): Promise<StoredAuthSettings | null> {
    return this.tx.run(tenantId, (manager) => this.find(manager, tenantId));
  }
}
