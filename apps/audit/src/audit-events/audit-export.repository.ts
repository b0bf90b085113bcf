import { Inject, Injectable } from '@nestjs/common';
import type { LedgerEntry } from '@tenantry/audit-ledger';
import { TenantTransactions } from '@tenantry/persistence';
import { LEDGER_COLUMNS, toLedgerEntry, type LedgerRow } from '../ledger/ledger.repository.js';

/**
 * An upper estimate of an entry's size as JSON in a page: about 640 bytes of field names,
 * ids, hashes and timestamps, plus its text, data and changes counted twice (JSON escapes
 * every quote of the JSON text they hold).
 */
const ENTRY_BYTES = `640 + octet_length(e.category) + octet_length(e.action) + octet_length(e.actor_id)
  + coalesce(octet_length(e.actor_name), 0) + coalesce(octet_length(e.actor_ip), 0)
  + coalesce(octet_length(e.actor_user_agent), 0) + coalesce(octet_length(e.actor_session_id), 0)
  + coalesce(octet_length(e.on_behalf_of_type), 0) + coalesce(octet_length(e.on_behalf_of_id), 0)
  + coalesce(octet_length(e.target_type), 0) + coalesce(octet_length(e.target_id), 0)
  + coalesce(octet_length(e.request_id), 0) + coalesce(octet_length(e.trace_id), 0)
  + coalesce(octet_length(e.reason), 0) + octet_length(e.occurred_at_text)
  + 2 * (coalesce(octet_length(e.data_text), 0) + coalesce(octet_length(e.changes_text), 0))`;

/** The extent of a tenant's chain: the oldest entry still kept and the newest one. */
export interface ChainExtent {
  /** The smallest seq in audit_events (after retention); null for a chain without rows. */
  firstSeq: number | null;
  /** The newest seq (audit_heads); 0 when the tenant has no chain. */
  headSeq: number;
}

/**
 * Reads a tenant's ledger in seq order for the export (`audit.events.export-*`): only reads,
 * under the tenant's row-level security, through the unique (tenant_id, seq) index.
 */
@Injectable()
export class AuditExportRepository {
  constructor(@Inject(TenantTransactions) private readonly tx: TenantTransactions) {}

  /** The oldest kept and the newest seq of the tenant's chain. */
  extent(tenantId: string): Promise<ChainExtent> {
    return this.tx.run(tenantId, async (manager) => {
      const [row] = (await manager.query(
        `SELECT (SELECT min(seq) FROM audit_events WHERE tenant_id = $1) AS first_seq,
                (SELECT seq FROM audit_heads WHERE tenant_id = $1) AS head_seq`,
        [tenantId],
      )) as { first_seq: string | null; head_seq: string | null }[];
      return {
        firstSeq: row?.first_seq === null || !row ? null : Number(row.first_seq),
        headSeq: row?.head_seq === null || !row ? 0 : Number(row.head_seq),
      };
    });
  }

  /**
   * Entries with afterSeq < seq ≤ toSeq in seq order: at most `limit`, and no more than
   * about `maxBytes` of text (always at least one entry), so a page fits a NATS message.
   */
  async page(
    tenantId: string,
    afterSeq: number,
    toSeq: number,
    limit: number,
    maxBytes: number,
  ): Promise<LedgerEntry[]> {
    const rows = (await this.tx.run(tenantId, (manager) =>
      manager.query(
        `SELECT * FROM (
           SELECT ${LEDGER_COLUMNS}, sum(${ENTRY_BYTES}) OVER (ORDER BY e.seq ROWS UNBOUNDED PRECEDING) AS running_bytes
             FROM audit_events e
            WHERE e.tenant_id = $1 AND e.seq > $2 AND e.seq <= $3
            ORDER BY e.seq
            LIMIT $4) page
          WHERE running_bytes <= $5 OR seq::bigint = $2::bigint + 1
          ORDER BY seq::bigint`,
        [tenantId, String(afterSeq), String(toSeq), limit, maxBytes],
      ),
    )) as LedgerRow[];
    return rows.map(toLedgerEntry);
  }
}
