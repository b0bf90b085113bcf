import { Inject, Injectable } from '@nestjs/common';
import { TenantTransactions } from '@tenantry/persistence';

/** The search's filters, as the repository applies them (all optional, combined with AND). */
export interface AuditSearchFilters {
  /** occurredAt ≥ from (ISO 8601). */
  from?: string;
  /** occurredAt < to (ISO 8601). */
  to?: string;
  category?: string;
  /** A prefix of the action. */
  action?: string;
  actorType?: string;
  actorId?: string;
  targetType?: string;
  targetId?: string;
  outcome?: string;
  severity?: string;
  /** Free text, anywhere in the action or the data's JSON text, ignoring case. */
  q?: string;
}

/** Where the previous page ended: its last row's occurred_at (to the microsecond) and id. */
export interface AuditSearchCursor {
  occurredAt: string;
  id: string;
}

/** A row of a search, with the hashes as hex and occurred_at's sort key to the microsecond. */
export interface AuditSearchRow {
  tenant_id: string;
  id: string;
  schema_version: number;
  occurred_at_text: string;
  /** occurred_at in UTC with microseconds: the cursor's key (the row's exact sort value). */
  occurred_key: string;
  recorded_at: Date;
  category: string;
  action: string;
  outcome: string;
  severity: string;
  actor_type: string;
  actor_id: string;
  actor_name: string | null;
  actor_ip: string | null;
  actor_user_agent: string | null;
  actor_session_id: string | null;
  on_behalf_of_type: string | null;
  on_behalf_of_id: string | null;
  target_type: string | null;
  target_id: string | null;
  request_id: string | null;
  trace_id: string | null;
  reason: string | null;
  data: Record<string, unknown> | null;
  changes: { before?: Record<string, unknown>; after?: Record<string, unknown> } | null;
  seq: string;
  prev_hash: string;
  hash: string;
}

/** A search with free text stops after this long (a scan of a large tenant): narrow it with from/to. */
export const FREE_TEXT_TIMEOUT_MS = 5_000;

/** `text` as a LIKE pattern matching itself literally (`\` is the escape character). */
export function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * Reads `audit_events` for the search (`GET /v1/tenants/{tenantId}/audit-events`). Only
 * reads: the ledger is appended by LedgerWriter. Every query runs under the
 * tenant's row-level security and still filters by tenant_id.
 */
@Injectable()
export class AuditSearchRepository {
  constructor(@Inject(TenantTransactions) private readonly tx: TenantTransactions) {}

  /**
   * Newest first (occurred_at DESC, id DESC), at most `limit` rows after `after`. Every
   * value is a bind parameter; `action` and `q` go through likeLiteral, so `%` and `_` in
   * them match themselves. With `q`, the query gets FREE_TEXT_TIMEOUT_MS (PostgreSQL's
   * 57014 when it runs out, which the service turns into an error asking for a range).
   */
  search(
    tenantId: string,
    filters: AuditSearchFilters,
    limit: number,
    after?: AuditSearchCursor,
  ): Promise<AuditSearchRow[]> {
    const where = ['tenant_id = $1'];
    const params: unknown[] = [tenantId];
    const bind = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (filters.from) where.push(`occurred_at >= ${bind(filters.from)}::timestamptz`);
    if (filters.to) where.push(`occurred_at < ${bind(filters.to)}::timestamptz`);
    if (filters.category) where.push(`category = ${bind(filters.category)}`);
    if (filters.action)
      where.push(`action LIKE ${bind(`${likeLiteral(filters.action)}%`)} ESCAPE '\\'`);
    if (filters.actorType) where.push(`actor_type = ${bind(filters.actorType)}`);
    if (filters.actorId) where.push(`actor_id = ${bind(filters.actorId)}`);
    if (filters.targetType) where.push(`target_type = ${bind(filters.targetType)}`);
    if (filters.targetId) where.push(`target_id = ${bind(filters.targetId)}`);
    if (filters.outcome) where.push(`outcome = ${bind(filters.outcome)}`);
    if (filters.severity) where.push(`severity = ${bind(filters.severity)}`);
    if (filters.q) {
      const pattern = bind(`%${likeLiteral(filters.q)}%`);
      where.push(`(action ILIKE ${pattern} ESCAPE '\\' OR data_text ILIKE ${pattern} ESCAPE '\\')`);
    }
    if (after)
      where.push(
        `(occurred_at, id) < (${bind(after.occurredAt)}::timestamptz, ${bind(after.id)}::uuid)`,
      );
    const sql = `
      SELECT tenant_id, id, schema_version, occurred_at_text,
             to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_key,
             recorded_at, category, action, outcome, severity,
             actor_type, actor_id, actor_name, actor_ip, actor_user_agent, actor_session_id,
             on_behalf_of_type, on_behalf_of_id, target_type, target_id, request_id, trace_id,
             reason, data, changes, seq, encode(prev_hash, 'hex') AS prev_hash,
             encode(hash, 'hex') AS hash
        FROM audit_events
       WHERE ${where.join(' AND ')}
       ORDER BY occurred_at DESC, id DESC
       LIMIT ${bind(limit)}`;
    return this.tx.run(tenantId, async (manager) => {
      if (filters.q) await manager.query(`SET LOCAL statement_timeout = ${FREE_TEXT_TIMEOUT_MS}`);
      return (await manager.query(sql, params)) as AuditSearchRow[];
    });
  }
}
