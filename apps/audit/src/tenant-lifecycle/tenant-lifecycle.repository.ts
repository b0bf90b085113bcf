import { Inject, Injectable } from '@nestjs/common';
import { TenantTransactions } from '@tenantry/persistence';
import { PURGED_CHAIN_HASH } from '../ledger/ledger.repository.js';

/** A tenant's chain in numbers (no audit content). */
export interface ChainSummary {
  /** Entries the chain holds now (retention removes old ones). */
  entries: number;
  headSeq: number;
  headHash: string | null;
  /** The tenant's own retention in days (null: the installation's default; 0: forever). */
  retentionDays: number | null;
}

/**
 * The tenant lifecycle's queries on the ledger: the tenant's registration in `audit_tenants`
 * (its retention), the purge of its chain (`audit_purge_tenant`, the owner's SECURITY
 * DEFINER function: the app role may not delete ledger rows), the purged-chain marks, and
 * the chain's numbers. Tenant tables are read under the tenant (row-level security).
 */
@Injectable()
export class TenantLifecycleRepository {
  constructor(@Inject(TenantTransactions) private readonly tx: TenantTransactions) {}

  /** Registers the tenant's chain (before its first entry, if need be) with its retention. */
  async register(tenantId: string, retentionDays: number): Promise<void> {
    await this.tx.runGlobal((manager) =>
      manager.query(
        `INSERT INTO audit_tenants (tenant_id, head_seq, retention_days) VALUES ($1, 0, $2)
         ON CONFLICT (tenant_id) DO UPDATE SET retention_days = excluded.retention_days`,
        [tenantId, retentionDays],
      ),
    );
  }

  /** Forgets that the tenant's chain was purged (it is provisioned again); true when it was. */
  async reopen(tenantId: string): Promise<boolean> {
    const [, count] = (await this.tx.runGlobal((manager) =>
      manager.query(`DELETE FROM audit_purged_chains WHERE chain_hash = ${PURGED_CHAIN_HASH}`, [
        tenantId,
      ]),
    )) as [unknown, number];
    return count > 0;
  }

  /** Removes the tenant's whole chain and sinks; the rows removed, by table. */
  async purge(tenantId: string): Promise<Record<string, number>> {
    const [row] = (await this.tx.run(tenantId, (manager) =>
      manager.query(`SELECT audit_purge_tenant($1) AS removed`, [tenantId]),
    )) as { removed: Record<string, number> }[];
    return row!.removed;
  }

  /** The seq of the tenant's entry `id`; null when the chain does not hold it. */
  entrySeq(tenantId: string, id: string): Promise<number | null> {
    return this.tx.run(tenantId, async (manager) => {
      const [row] = (await manager.query(
        `SELECT seq::text AS seq FROM audit_events WHERE tenant_id = $1 AND id = $2`,
        [tenantId, id],
      )) as { seq: string }[];
      return row ? Number(row.seq) : null;
    });
  }

  /** The chain's entries, head and retention. */
  summary(tenantId: string): Promise<ChainSummary> {
    return this.tx.run(tenantId, async (manager) => {
      const [row] = (await manager.query(
        `SELECT (SELECT count(*)::text FROM audit_events WHERE tenant_id = $1) AS entries,
                (SELECT seq::text FROM audit_heads WHERE tenant_id = $1) AS head_seq,
                (SELECT encode(hash, 'hex') FROM audit_heads WHERE tenant_id = $1) AS head_hash,
                (SELECT retention_days FROM audit_tenants WHERE tenant_id = $1) AS retention_days`,
        [tenantId],
      )) as {
        entries: string;
        head_seq: string | null;
        head_hash: string | null;
        retention_days: number | null;
      }[];
      return {
        entries: Number(row!.entries),
        headSeq: Number(row!.head_seq ?? 0),
        headHash: row!.head_hash,
        retentionDays: row!.retention_days,
      };
    });
  }
}
