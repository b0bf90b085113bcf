import { Inject, Injectable } from '@nestjs/common';
import type { PlanFeature, Quotas, TenantStatus } from '@tenantry/contracts';
import {
  addToOutbox,
  Sql,
  TenantTransactions,
  type OutboxMessage,
  type PreparedStatement,
} from '@tenantry/persistence';
import type { EntityManager } from 'typeorm';
import { TenantEntity, type StoredPlanChange } from './tenant.entity.js';

const UNIQUE_VIOLATION = '23505';
const SLUG_UNIQUE = 'tenants_slug_unique';

/** What a tenant's plan contributes to it: limits, features, roles, and the version configured. */
export interface PlanFacts {
  quotas: Quotas;
  features: PlanFeature[];
  roles: string[];
  version: number;
  updatedAt: Date;
}

/** A tenant with its plan's facts (one join). */
export interface TenantRecord {
  tenant: TenantEntity;
  plan: PlanFacts;
}

/** A change of a locked tenant: its new row, and the announcements of the row as written. */
export interface TenantMutation {
  tenant: TenantEntity;
  announce: (after: TenantRecord) => OutboxMessage[];
}

export interface TenantFilters {
  status?: TenantStatus;
  plan?: string;
  region?: string;
  q?: string;
}

interface TenantRow {
  id: string;
  name: string;
  slug: string;
  status: TenantStatus;
  status_reason: string | null;
  plan: TenantEntity['plan'];
  region: string;
  isolation: TenantEntity['isolation'];
  settings: TenantEntity['settings'];
  limit_overrides: TenantEntity['limitOverrides'];
  pending_plan_change: StoredPlanChange | null;
  run_id: string | null;
  trial_ends_at: Date | null;
  delete_after: Date | null;
  config_version: number;
  configured_version: number;
  configured_plan_version: number;
  created_at: Date;
  updated_at: Date;
  plan_quotas: Quotas;
  plan_features: PlanFeature[];
  plan_roles: string[];
  plan_version: number;
  plan_updated_at: Date;
}

const SELECT = `SELECT t.id, t.name, t.slug, t.status, t.status_reason, t.plan, t.region, t.isolation,
  t.settings, t.limit_overrides, t.pending_plan_change, t.run_id, t.trial_ends_at, t.delete_after,
  t.config_version, t.configured_version, t.configured_plan_version, t.created_at, t.updated_at,
  p.quotas AS plan_quotas, p.features AS plan_features, p.roles AS plan_roles,
  p.version AS plan_version, p.updated_at AS plan_updated_at
  FROM tenants t JOIN plans p ON p.key = t.plan`;

const TENANT_BY_ID: PreparedStatement = {
  name: 'tenants.by-id.v2',
  text: `${SELECT} WHERE t.id = $1`,
};
const TENANT_BY_SLUG: PreparedStatement = {
  name: 'tenants.by-slug.v2',
  text: `${SELECT} WHERE t.slug = $1 AND t.status <> 'deleted'`,
};

/** Statuses whose participants hold the tenant's profile (and are configured on a change). */
export const CONFIGURED_STATUSES: readonly TenantStatus[] = [
  'active',
  'suspended',
  'deprovisioning',
];

/** `%`, `_` and `\` taken literally in an ILIKE pattern. */
function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** The only code that touches the tenants table (platform-level: no row-level security). */
@Injectable()
export class TenantRepository {
  constructor(
    @Inject(TenantTransactions) private readonly tx: TenantTransactions,
    @Inject(Sql) private readonly sql: Sql,
  ) {}

  /**
   * Inserts a tenant and its announcements in the caller's transaction. Returns false when a
   * tenant that is not deleted has the slug (the transaction is then unusable: throw).
   */
  async insert(
    manager: EntityManager,
    tenant: TenantEntity,
    events: OutboxMessage[],
  ): Promise<boolean> {
    const [taken] = (await manager.query(
      `SELECT 1 FROM tenants WHERE slug = $1 AND status <> 'deleted' LIMIT 1`,
      [tenant.slug],
    )) as unknown[];
    if (taken) return false;
    try {
      await manager.insert(TenantEntity, tenant);
    } catch (error) {
      const e = error as { driverError?: { code?: string; constraint?: string } };
      if (e.driverError?.code === UNIQUE_VIOLATION && e.driverError.constraint === SLUG_UNIQUE)
        return false;
      throw error;
    }
    await addToOutbox(manager, events);
    return true;
  }

  /** The tenant as `manager`'s transaction sees it (its own insert included). */
  async findIn(manager: EntityManager, id: string): Promise<TenantRecord | null> {
    const [row] = (await manager.query(`${SELECT} WHERE t.id = $1`, [id])) as TenantRow[];
    return row ? toRecord(row) : null;
  }

  /** The hot path behind GET /v1/tenants/:id: one named prepared read. */
  async findById(id: string): Promise<TenantRecord | null> {
    const [row] = await this.sql.rows<TenantRow>(TENANT_BY_ID, [id]);
    return row ? toRecord(row) : null;
  }

  /** The tenant holding the slug (deleted tenants hold none). */
  async findBySlug(slug: string): Promise<TenantRecord | null> {
    const [row] = await this.sql.rows<TenantRow>(TENANT_BY_SLUG, [slug]);
    return row ? toRecord(row) : null;
  }

  /** Oldest first by id (UUIDv7, so creation order); `after` is the last id of the previous page. */
  async list(filters: TenantFilters, limit: number, after?: string): Promise<TenantRecord[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (clause: (n: string) => string, value: unknown) => {
      values.push(value);
      where.push(clause(`$${values.length}`));
    };
    if (filters.status) add((n) => `t.status = ${n}`, filters.status);
    if (filters.plan) add((n) => `t.plan = ${n}`, filters.plan);
    if (filters.region) add((n) => `t.region = ${n}`, filters.region);
    if (filters.q)
      add((n) => `(t.name ILIKE ${n} OR t.slug ILIKE ${n})`, `%${likeLiteral(filters.q)}%`);
    if (after) add((n) => `t.id > ${n}`, after);
    values.push(limit);
    const rows = (await this.tx.runGlobal((manager) =>
      manager.query(
        `${SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY t.id LIMIT $${values.length}`,
        values,
      ),
    )) as TenantRow[];
    return rows.map(toRecord);
  }

  /**
   * Locks the tenant, lets `change` decide its new row (or nothing: null; or refuse: throw),
   * and writes the row and its announcements in one transaction. Null when there is no such
   * tenant; `changed` says whether anything was written.
   */
  mutate(
    id: string,
    change: (current: TenantRecord) => TenantMutation | null,
  ): Promise<{ record: TenantRecord; changed: boolean } | null> {
    return this.tx.runGlobal(async (manager) => {
      const [row] = (await manager.query(`${SELECT} WHERE t.id = $1 FOR UPDATE OF t`, [
        id,
      ])) as TenantRow[];
      if (!row) return null;
      const current = toRecord(row);
      const mutation = change(current);
      if (!mutation) return { record: current, changed: false };
      const t = mutation.tenant;
      await manager.update(
        TenantEntity,
        { id },
        {
          name: t.name,
          status: t.status,
          statusReason: t.statusReason,
          plan: t.plan,
          settings: t.settings,
          limitOverrides: t.limitOverrides,
          pendingPlanChange: t.pendingPlanChange,
          runId: t.runId,
          trialEndsAt: t.trialEndsAt,
          deleteAfter: t.deleteAfter,
          configVersion: t.configVersion,
          updatedAt: t.updatedAt,
        },
      );
      const after = (await this.findIn(manager, id))!;
      await addToOutbox(manager, mutation.announce(after));
      return { record: after, changed: true };
    });
  }

  /** Records that every participant holds the tenant's profile at these versions (never goes back). */
  async markConfigured(id: string, configVersion: number, planVersion: number): Promise<void> {
    await this.tx.runGlobal((manager) =>
      manager.query(
        `UPDATE tenants SET configured_version = GREATEST(configured_version, $2),
           configured_plan_version = GREATEST(configured_plan_version, $3) WHERE id = $1`,
        [id, configVersion, planVersion],
      ),
    );
  }

  /** Tenants whose participants hold an older profile (a change they missed, or an edited plan). */
  async configurationBehind(limit: number, after?: string): Promise<TenantRecord[]> {
    const rows = (await this.tx.runGlobal((manager) =>
      manager.query(
        `${SELECT} WHERE t.status = ANY($1)
           AND (t.configured_version < t.config_version OR t.configured_plan_version < p.version)
           AND ($2::uuid IS NULL OR t.id > $2) ORDER BY t.id LIMIT $3`,
        [CONFIGURED_STATUSES, after ?? null, limit],
      ),
    )) as TenantRow[];
    return rows.map(toRecord);
  }

  /** Tenants with a scheduled plan change due at `now` (active or suspended ones). */
  async duePlanChanges(now: Date, limit: number, after?: string): Promise<TenantRecord[]> {
    const rows = (await this.tx.runGlobal((manager) =>
      manager.query(
        `${SELECT} WHERE t.pending_plan_change IS NOT NULL
           AND (t.pending_plan_change->>'at')::timestamptz <= $1
           AND t.status IN ('active', 'suspended')
           AND ($2::uuid IS NULL OR t.id > $2) ORDER BY t.id LIMIT $3`,
        [now, after ?? null, limit],
      ),
    )) as TenantRow[];
    return rows.map(toRecord);
  }

  /** Tenants whose access state may have changed since `since` (their row or their plan); all when null. */
  async changedSince(since: Date | null, limit: number, after?: string): Promise<TenantRecord[]> {
    const rows = (await this.tx.runGlobal((manager) =>
      manager.query(
        `${SELECT} WHERE ($1::timestamptz IS NULL OR GREATEST(t.updated_at, p.updated_at) > $1)
           AND ($2::uuid IS NULL OR t.id > $2) ORDER BY t.id LIMIT $3`,
        [since, after ?? null, limit],
      ),
    )) as TenantRow[];
    return rows.map(toRecord);
  }

  /**
   * Stores why a due plan change stays pending, with `events` (its audit fact when the reason
   * is new), unless the pending change is no longer this one.
   */
  async deferPlanChange(
    id: string,
    pending: StoredPlanChange,
    events: OutboxMessage[],
  ): Promise<void> {
    await this.tx.runGlobal(async (manager) => {
      const [, updated] = (await manager.query(
        `UPDATE tenants SET pending_plan_change = $2::jsonb
           WHERE id = $1 AND pending_plan_change->>'plan' = $3 AND pending_plan_change->>'at' = $4`,
        [id, JSON.stringify(pending), pending.plan, pending.at],
      )) as [unknown, number];
      if (updated) await addToOutbox(manager, events);
    });
  }
}

function toRecord(row: TenantRow): TenantRecord {
  const tenant = Object.assign(new TenantEntity(), {
    id: row.id,
    name: row.name,
    slug: row.slug,
    status: row.status,
    statusReason: row.status_reason,
    plan: row.plan,
    region: row.region,
    isolation: row.isolation,
    settings: row.settings,
    limitOverrides: row.limit_overrides,
    pendingPlanChange: row.pending_plan_change,
    runId: row.run_id,
    trialEndsAt: row.trial_ends_at,
    deleteAfter: row.delete_after,
    configVersion: row.config_version,
    configuredVersion: row.configured_version,
    configuredPlanVersion: row.configured_plan_version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
  return {
    tenant,
    plan: {
      quotas: row.plan_quotas,
      features: row.plan_features,
      roles: row.plan_roles,
      version: row.plan_version,
      updatedAt: row.plan_updated_at,
    },
  };
}
