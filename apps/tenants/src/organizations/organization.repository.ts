import { Inject, Injectable } from '@nestjs/common';
import {
  addToOutbox,
  setTenant,
  TenantTransactions,
  type OutboxMessage,
} from '@tenantry/persistence';
import type { EntityManager } from 'typeorm';
import { OrganizationEntity } from './organization.entity.js';

const COLUMNS =
  'id, tenant_id, parent_id, slug, name, path, depth, settings, created_at, updated_at';

interface OrganizationRow {
  id: string;
  tenant_id: string;
  parent_id: string | null;
  slug: string;
  name: string;
  path: string;
  depth: number;
  settings: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
}

/** Which organizations a list takes. */
export interface OrganizationFilter {
  /** Only the children of this organization; null: only the roots. */
  parentId?: string | null;
  /** Only the subtree below the organization with this path (itself excluded). */
  underPath?: string;
}

/**
 * The only code that touches organizations. Every query runs in the tenant's transaction
 * (row-level security) and still filters by tenant_id. Changes of the tree run under a
 * per-tenant advisory lock (`locked`), so that two moves cannot make a cycle together and a
 * new child never lands under a path being rewritten.
 */
@Injectable()
export class OrganizationRepository {
  constructor(@Inject(TenantTransactions) private readonly tx: TenantTransactions) {}

  /** A transaction of the tenant holding its tree's lock. */
  locked<T>(tenantId: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.tx.run(tenantId, async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [
        `organizations:${tenantId}`,
      ]);
      return work(manager);
    });
  }

  /** A read-only transaction of the tenant. */
  read<T>(tenantId: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.tx.run(tenantId, work);
  }

  async find(
    manager: EntityManager,
    tenantId: string,
    id: string,
  ): Promise<OrganizationEntity | null> {
    const [row] = (await manager.query(
      `SELECT ${COLUMNS} FROM organizations WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    )) as OrganizationRow[];
    return row ? toEntity(row) : null;
  }

  async findMany(
    manager: EntityManager,
    tenantId: string,
    ids: string[],
  ): Promise<OrganizationEntity[]> {
    if (!ids.length) return [];
    const rows = (await manager.query(
      `SELECT ${COLUMNS} FROM organizations WHERE tenant_id = $1 AND id = ANY($2::uuid[])`,
      [tenantId, ids],
    )) as OrganizationRow[];
    return rows.map(toEntity);
  }

  /** True when a sibling under `parentId` (a root when null), other than `except`, has the slug. */
  async slugTaken(
    manager: EntityManager,
    tenantId: string,
    parentId: string | null,
    slug: string,
    except?: string,
  ): Promise<boolean> {
    const rows = (await manager.query(
      `SELECT 1 FROM organizations WHERE tenant_id = $1 AND parent_id IS NOT DISTINCT FROM $2
         AND slug = $3 AND ($4::uuid IS NULL OR id <> $4) LIMIT 1`,
      [tenantId, parentId, slug, except ?? null],
    )) as unknown[];
    return rows.length > 0;
  }

  async insert(
    manager: EntityManager,
    organization: OrganizationEntity,
    events: OutboxMessage[],
  ): Promise<void> {
    const o = organization;
    await manager.query(
      `INSERT INTO organizations (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10)`,
      [
        o.id,
        o.tenantId,
        o.parentId,
        o.slug,
        o.name,
        o.path,
        o.depth,
        JSON.stringify(o.settings),
        o.createdAt,
        o.updatedAt,
      ],
    );
    await addToOutbox(manager, events);
  }

  async update(
    manager: EntityManager,
    organization: OrganizationEntity,
    events: OutboxMessage[],
  ): Promise<void> {
    await manager.query(
      `UPDATE organizations SET name = $3, settings = $4::jsonb, updated_at = $5
         WHERE tenant_id = $1 AND id = $2`,
      [
        organization.tenantId,
        organization.id,
        organization.name,
        JSON.stringify(organization.settings),
        organization.updatedAt,
      ],
    );
    await addToOutbox(manager, events);
  }

  /** The depth of the deepest organization in the subtree at `path` (the node's own included). */
  async deepestUnder(manager: EntityManager, tenantId: string, path: string): Promise<number> {
    const [row] = (await manager.query(
      `SELECT max(depth) AS deepest FROM organizations WHERE tenant_id = $1 AND path LIKE $2`,
      [tenantId, `${path}%`],
    )) as { deepest: number | null }[];
    return row?.deepest ?? 0;
  }

  /**
   * Moves the organization under `parentId`: its parent, and the path and depth of every
   * organization of its subtree (`oldPath` → `newPath`, depth + `depthDelta`).
   */
  async move(
    manager: EntityManager,
    organization: OrganizationEntity,
    parentId: string | null,
    newPath: string,
    depthDelta: number,
    at: Date,
    events: OutboxMessage[],
  ): Promise<void> {
    await manager.query(
      `UPDATE organizations SET parent_id = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2`,
      [organization.tenantId, organization.id, parentId, at],
    );
    await manager.query(
      `UPDATE organizations SET path = $3 || substr(path, $4), depth = depth + $5
         WHERE tenant_id = $1 AND path LIKE $2`,
      [
        organization.tenantId,
        `${organization.path}%`,
        newPath,
        organization.path.length + 1,
        depthDelta,
      ],
    );
    await addToOutbox(manager, events);
  }

  async childCount(manager: EntityManager, tenantId: string, id: string): Promise<number> {
    const [row] = (await manager.query(
      `SELECT count(*)::int AS n FROM organizations WHERE tenant_id = $1 AND parent_id = $2`,
      [tenantId, id],
    )) as { n: number }[];
    return row?.n ?? 0;
  }

  async delete(
    manager: EntityManager,
    tenantId: string,
    id: string,
    events: OutboxMessage[],
  ): Promise<void> {
    await manager.query(`DELETE FROM organizations WHERE tenant_id = $1 AND id = $2`, [
      tenantId,
      id,
    ]);
    await addToOutbox(manager, events);
  }

  /** In tree order (depth first, siblings by creation); `afterPath` is the last path of the previous page. */
  async list(
    manager: EntityManager,
    tenantId: string,
    filter: OrganizationFilter,
    limit: number,
    afterPath?: string,
  ): Promise<OrganizationEntity[]> {
    const where = ['tenant_id = $1'];
    const values: unknown[] = [tenantId];
    const add = (clause: (n: string) => string, value: unknown) => {
      values.push(value);
      where.push(clause(`$${values.length}`));
    };
    if (filter.parentId === null) where.push('parent_id IS NULL');
    else if (filter.parentId) add((n) => `parent_id = ${n}`, filter.parentId);
    if (filter.underPath) {
      add((n) => `path LIKE ${n}`, `${filter.underPath}%`);
      add((n) => `path <> ${n}`, filter.underPath);
    }
    if (afterPath) add((n) => `path COLLATE "C" > ${n}`, afterPath);
    values.push(limit);
    const rows = (await manager.query(
      `SELECT ${COLUMNS} FROM organizations WHERE ${where.join(' AND ')}
         ORDER BY path COLLATE "C" LIMIT $${values.length}`,
      values,
    )) as OrganizationRow[];
    return rows.map(toEntity);
  }

  /**
   * Deletes every organization of the tenant in the caller's transaction (which may be a
   * platform-level one: the tenant is set for the statement and the previous setting put
   * back). Returns how many.
   */
  async removeAll(manager: EntityManager, tenantId: string): Promise<number> {
    const [previous] = (await manager.query(
      `SELECT current_setting('app.tenant_id', true) AS tenant`,
    )) as { tenant: string | null }[];
    await setTenant(manager, tenantId);
    const [, count] = (await manager.query(`DELETE FROM organizations WHERE tenant_id = $1`, [
      tenantId,
    ])) as [unknown, number];
    await manager.query(`SELECT set_config('app.tenant_id', $1, true)`, [previous?.tenant ?? '']);
    return count;
  }
}

function toEntity(row: OrganizationRow): OrganizationEntity {
  return Object.assign(new OrganizationEntity(), {
    id: row.id,
    tenantId: row.tenant_id,
    parentId: row.parent_id,
    slug: row.slug,
    name: row.name,
    path: row.path,
    depth: row.depth,
    settings: row.settings,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}
