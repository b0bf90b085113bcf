import { Injectable } from '@nestjs/common';
import type { PlanFeature, Quotas, TenantProfile, TenantSettings } from '@tenantry/contracts';
import type { EntityManager } from 'typeorm';

/** A tenant's profile as identity keeps it (tenant_profiles). */
export interface StoredTenantProfile {
  tenantId: string;
  slug: string;
  name: string;
  plan: string;
  limits: Quotas;
  features: PlanFeature[];
  roles: string[];
  settings: TenantSettings;
  /** The first admin bootstrap created (compensation removes exactly this user). */
  adminUserId: string | null;
  /** The provisioning run whose bootstrap stored the profile. */
  bootstrapRunId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

interface ProfileRow {
  tenant_id: string;
  slug: string;
  name: string;
  plan: string;
  limits: Quotas;
  features: PlanFeature[];
  roles: string[];
  settings: TenantSettings;
  admin_user_id: string | null;
  bootstrap_run_id: string | null;
  created_at: Date;
  updated_at: Date;
}

function toProfile(row: ProfileRow): StoredTenantProfile {
  return {
    tenantId: row.tenant_id,
    slug: row.slug,
    name: row.name,
    plan: row.plan,
    limits: row.limits,
    features: row.features,
    roles: row.roles,
    settings: row.settings,
    adminUserId: row.admin_user_id,
    bootstrapRunId: row.bootstrap_run_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * The only code that touches tenant_profiles; every method runs in the caller's tenant
 * transaction (row-level security) and still filters by tenant_id. Also counts what the
 * quotas count (users, SSO connections) in that transaction.
 */
@Injectable()
export class TenantProfileRepository {
  /**
   * Stores the profile (inserted, or replacing the stored one but its admin), locking the
   * row until the caller's transaction ends; `runId` is kept from the first bootstrap.
   */
  async upsert(
    manager: EntityManager,
    profile: TenantProfile,
    runId: string | null = null,
  ): Promise<{ profile: StoredTenantProfile; inserted: boolean }> {
    const [row]: (ProfileRow & { inserted: boolean })[] = await manager.query(
      `INSERT INTO tenant_profiles
         (tenant_id, slug, name, plan, limits, features, roles, settings, bootstrap_run_id)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6::text[], $7::text[], $8::jsonb, $9)
       ON CONFLICT (tenant_id) DO UPDATE SET
         slug = EXCLUDED.slug, name = EXCLUDED.name, plan = EXCLUDED.plan,
         limits = EXCLUDED.limits, features = EXCLUDED.features, roles = EXCLUDED.roles,
         settings = EXCLUDED.settings,
         bootstrap_run_id = coalesce(tenant_profiles.bootstrap_run_id, EXCLUDED.bootstrap_run_id),
         updated_at = now()
       RETURNING *, (xmax = 0) AS inserted`,
      [
        profile.tenantId,
        profile.slug,
        profile.name,
        profile.plan,
        JSON.stringify(profile.limits),
        profile.features,
        profile.roles,
        JSON.stringify(profile.settings),
        runId,
      ],
    );
    return { profile: toProfile(row!), inserted: row!.inserted };
  }

  /** The tenant's profile, optionally locked (FOR UPDATE) until the caller's transaction ends; null when it has none. */
  async find(
    manager: EntityManager,
    tenantId: string,
    lock = false,
  ): Promise<StoredTenantProfile | null> {
    const rows: ProfileRow[] = await manager.query(
      `SELECT * FROM tenant_profiles WHERE tenant_id = $1${lock ? ' FOR UPDATE' : ''}`,
      [tenantId],
    );
    return rows[0] ? toProfile(rows[0]) : null;
  }

  /** Records the first admin bootstrap created. */
  async setAdmin(manager: EntityManager, tenantId: string, userId: string): Promise<void> {
    await manager.query(
      `UPDATE tenant_profiles SET admin_user_id = $2, updated_at = now() WHERE tenant_id = $1`,
      [tenantId, userId],
    );
  }

  /** Deletes the tenant's profile; returns how many rows went (0 or 1). */
  async delete(manager: EntityManager, tenantId: string): Promise<number> {
    const [, affected]: [unknown, number] = await manager.query(
      `DELETE FROM tenant_profiles WHERE tenant_id = $1`,
      [tenantId],
    );
    return affected;
  }

  /** The users the `users` limit counts: every user of the tenant (invited, active or disabled). */
  async countUsers(manager: EntityManager, tenantId: string): Promise<number> {
    const [row]: { n: number }[] = await manager.query(
      `SELECT count(*)::int AS n FROM users WHERE tenant_id = $1`,
      [tenantId],
    );
    return row!.n;
  }

  /** The connections the `ssoConnections` limit counts: every SSO connection, enabled or not. */
  async countSsoConnections(manager: EntityManager, tenantId: string): Promise<number> {
    const [row]: { n: number }[] = await manager.query(
      `SELECT count(*)::int AS n FROM sso_connections WHERE tenant_id = $1`,
      [tenantId],
    );
    return row!.n;
  }
}
