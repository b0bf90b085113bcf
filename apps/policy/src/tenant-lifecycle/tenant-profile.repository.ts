import { Inject, Injectable } from '@nestjs/common';
import type { PlanFeature, PlanKey, Quotas, TenantProfile } from '@tenantry/contracts';
import { TenantTransactions, type Row } from '@tenantry/persistence';

/** A tenant's profile as the policy service keeps it. */
export interface StoredProfile {
  tenantId: string;
  plan: PlanKey;
  limits: Quotas;
  features: PlanFeature[];
  roles: string[];
  updatedAt: Date;
}

const COLUMNS = 'tenant_id, plan, limits, features, roles, updated_at';

function stored(row: Row): StoredProfile {
  return {
    tenantId: row.tenant_id as string,
    plan: row.plan as PlanKey,
    limits: row.limits as Quotas,
    features: row.features as PlanFeature[],
    roles: row.roles as string[],
    updatedAt: row.updated_at as Date,
  };
}

/**
 * The only code that touches tenant_profiles: each query runs in the tenant's transaction
 * (row-level security) and still filters by tenant_id.
 */
@Injectable()
export class TenantProfileRepository {
  constructor(@Inject(TenantTransactions) private readonly tx: TenantTransactions) {}

  /** Stores the profile (inserted, or replacing the one there). */
  save(profile: TenantProfile): Promise<void> {
    return this.tx.run(profile.tenantId, async (manager) => {
      await manager.query(
        `INSERT INTO tenant_profiles (tenant_id, plan, limits, features, roles)
         VALUES ($1, $2, $3::jsonb, $4::text[], $5::text[])
         ON CONFLICT (tenant_id) DO UPDATE
           SET plan = excluded.plan, limits = excluded.limits, features = excluded.features,
               roles = excluded.roles, updated_at = now()`,
        [
          profile.tenantId,
          profile.plan,
          JSON.stringify(profile.limits),
          profile.features,
          profile.roles,
        ],
      );
    });
  }

  /** The tenant's profile; null when it has none (unlimited). */
  get(tenantId: string): Promise<StoredProfile | null> {
    return this.tx.run(tenantId, async (manager) => {
      const rows: Row[] = await manager.query(
        `SELECT ${COLUMNS} FROM tenant_profiles WHERE tenant_id = $1`,
        [tenantId],
      );
      return rows[0] ? stored(rows[0]) : null;
    });
  }

  /** Deletes the tenant's profile; the rows removed. */
  remove(tenantId: string): Promise<number> {
    return this.tx.run(tenantId, async (manager) => {
      // TypeORM answers a DELETE with [rows, count].
      const [, count]: [Row[], number] = await manager.query(
        `DELETE FROM tenant_profiles WHERE tenant_id = $1`,
        [tenantId],
      );
      return count;
    });
  }
}
