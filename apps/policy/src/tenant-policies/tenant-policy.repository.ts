import { Inject, Injectable } from '@nestjs/common';
import { TenantTransactions, type Row } from '@tenantry/persistence';
import type { PolicyDocument } from '@tenantry/policy-engine';
import type { EntityManager } from 'typeorm';

/** A tenant's policy as stored. */
export interface StoredPolicy {
  tenantId: string;
  document: PolicyDocument;
  version: number;
  updatedAt: Date;
}

/** A tenant's publication state (platform level). */
export interface Publication {
  tenantId: string;
  version: number;
  publishedVersion: number;
}

function stored(row: Row): StoredPolicy {
  return {
    tenantId: row.tenant_id as string,
    document: row.document as PolicyDocument,
    version: row.version as number,
    updatedAt: row.updated_at as Date,
  };
}

/**
 * The only code that touches tenant_policies and policy_publications. Methods that take a
 * manager run in the caller's tenant transaction; the others open their own. Queries of
 * tenant_policies filter by tenant_id as well (row-level security is the safety net).
 */
@Injectable()
export class TenantPolicyRepository {
  constructor(@Inject(TenantTransactions) private readonly tx: TenantTransactions) {}

  /** The tenant's policy, locked (FOR UPDATE) until the caller's transaction ends; null when it has none. */
  async lock(manager: EntityManager, tenantId: string): Promise<StoredPolicy | null> {
    const rows: Row[] = await manager.query(
      `SELECT tenant_id, document, version, updated_at FROM tenant_policies WHERE tenant_id = $1 FOR UPDATE`,
      [tenantId],
    );
    return rows[0] ? stored(rows[0]) : null;
  }

  /** The tenant's policy and the version the bucket has, in a transaction of its own. */
  get(tenantId: string): Promise<(StoredPolicy & { publishedVersion: number }) | null> {
    return this.tx.run(tenantId, async (manager) => {
      const rows: Row[] = await manager.query(
        `SELECT p.tenant_id, p.document, p.version, p.updated_at,
                coalesce(pub.published_version, 0) AS published_version
           FROM tenant_policies p
           LEFT JOIN policy_publications pub ON pub.tenant_id = p.tenant_id
          WHERE p.tenant_id = $1`,
        [tenantId],
      );
      const row = rows[0];
      return row ? { ...stored(row), publishedVersion: row.published_version as number } : null;
    });
  }

  /** Stores a tenant's first policy; false (and nothing changed) when it already has one. */
  async insertIfAbsent(
    manager: EntityManager,
    tenantId: string,
    document: PolicyDocument,
  ): Promise<boolean> {
    const rows: Row[] = await manager.query(
      `INSERT INTO tenant_policies (tenant_id, document, version) VALUES ($1, $2::jsonb, $3)
       ON CONFLICT (tenant_id) DO NOTHING RETURNING tenant_id`,
      [tenantId, JSON.stringify(document), document.version],
    );
    if (!rows.length) return false;
    await manager.query(
      `INSERT INTO policy_publications (tenant_id, version) VALUES ($1, $2)
       ON CONFLICT (tenant_id) DO UPDATE SET version = excluded.version, updated_at = now()`,
      [tenantId, document.version],
    );
    return true;
  }

  /** Replaces the tenant's document (its version is the document's), in the caller's transaction. */
  async save(manager: EntityManager, tenantId: string, document: PolicyDocument): Promise<Date> {
    // TypeORM answers an UPDATE with [rows, count].
    const [rows]: [Row[], number] = await manager.query(
      `UPDATE tenant_policies SET document = $2::jsonb, version = $3, updated_at = now()
        WHERE tenant_id = $1 RETURNING updated_at`,
      [tenantId, JSON.stringify(document), document.version],
    );
    await manager.query(
      `UPDATE policy_publications SET version = $2, updated_at = now() WHERE tenant_id = $1`,
      [tenantId, document.version],
    );
    return rows[0]!.updated_at as Date;
  }

  /**
   * Deletes the tenant's document and its publication state, in the caller's tenant
   * transaction; the rows removed, by table.
   */
  async remove(manager: EntityManager, tenantId: string): Promise<Record<string, number>> {
    const removed: Record<string, number> = {};
    for (const table of ['tenant_policies', 'policy_publications']) {
      // TypeORM answers a DELETE with [rows, count].
      const [, count]: [Row[], number] = await manager.query(
        `DELETE FROM ${table} WHERE tenant_id = $1`,
        [tenantId],
      );
      removed[table] = count;
    }
    return removed;
  }

  /** Records that the bucket has `version` (never going back to an older one). */
  async markPublished(tenantId: string, version: number, revision: number): Promise<void> {
    await this.tx.runGlobal((manager) =>
      manager.query(
        `UPDATE policy_publications
            SET published_revision = CASE WHEN $2 >= published_version THEN $3 ELSE published_revision END,
                published_version = GREATEST(published_version, $2),
                updated_at = now()
          WHERE tenant_id = $1`,
        [tenantId, version, revision],
      ),
    );
  }

  /** Publication states by tenant id, a page at a time; `after` is the last tenant id of the previous page. */
  async publications(limit: number, after?: string): Promise<Publication[]> {
    const rows: Row[] = await this.tx.runGlobal((manager) =>
      manager.query(
        `SELECT tenant_id, version, published_version FROM policy_publications
          WHERE ($1::uuid IS NULL OR tenant_id > $1::uuid) ORDER BY tenant_id LIMIT $2`,
        [after ?? null, limit],
      ),
    );
    return rows.map((row) => ({
      tenantId: row.tenant_id as string,
      version: row.version as number,
      publishedVersion: row.published_version as number,
    }));
  }
}
