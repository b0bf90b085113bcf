import { Inject, Injectable } from '@nestjs/common';
import { TenantTransactions } from '@tenantry/persistence';
import pg from 'pg';
import { AuditEventEntity } from './audit-event.entity.js';

export interface AuditPageCursor {
  occurredAt: Date;
  id: string;
}

/** A row to store, as the consumer builds it from an event. */
export interface NewAuditEvent {
  tenantId: string;
  id: string;
  schemaVersion: number;
  occurredAt: string;
  category: string;
  action: string;
  outcome: string;
  actorType: string;
  actorId: string;
  actorName: string | null;
  targetType: string | null;
  targetId: string | null;
  requestId: string | null;
  data: Record<string, unknown> | null;
  streamSequence: number;
}

const COLUMNS = [
  'tenant_id',
  'id',
  'schema_version',
  'occurred_at',
  'category',
  'action',
  'outcome',
  'actor_type',
  'actor_id',
  'actor_name',
  'target_type',
  'target_id',
  'request_id',
  'data',
  'stream_sequence',
];

function literal(value: string | null): string {
  return value === null ? 'NULL' : pg.escapeLiteral(value);
}

function values(row: NewAuditEvent): string {
  return `(${[
    `${literal(row.tenantId)}::uuid`,
    `${literal(row.id)}::uuid`,
    String(Math.trunc(row.schemaVersion)),
    `${literal(row.occurredAt)}::timestamptz`,
    literal(row.category),
    literal(row.action),
    literal(row.outcome),
    literal(row.actorType),
    literal(row.actorId),
    literal(row.actorName),
    literal(row.targetType),
    literal(row.targetId),
    literal(row.requestId),
    row.data === null ? 'NULL' : `${literal(JSON.stringify(row.data))}::jsonb`,
    String(Math.trunc(row.streamSequence)),
  ].join(', ')})`;
}

/** The only code that touches the audit_events table. */
@Injectable()
export class AuditEventRepository {
  constructor(@Inject(TenantTransactions) private readonly tx: TenantTransactions) {}

  /**
   * Inserts rows of many tenants in one transaction and one round trip: for each
   * tenant, `set_config('app.tenant_id', …, true)` then a multi-row INSERT, so row-level
   * security checks every row against its own tenant. A row already stored (same
   * tenant and id: a redelivery or a publisher's retry) is skipped, not doubled.
   * Several statements in one call need the simple query protocol, which takes no
   * bind parameters: every value goes through pg's escapeLiteral.
   */
  async insertBatch(rows: NewAuditEvent[]): Promise<void> {
    const byTenant = new Map<string, NewAuditEvent[]>();
    for (const row of rows) {
      const list = byTenant.get(row.tenantId) ?? [];
      list.push(row);
      byTenant.set(row.tenantId, list);
    }
    const statements: string[] = [];
    for (const [tenantId, tenantRows] of byTenant) {
      statements.push(`SELECT set_config('app.tenant_id', ${literal(tenantId)}, true)`);
      statements.push(
        `INSERT INTO audit_events (${COLUMNS.join(', ')}) VALUES ${tenantRows.map(values).join(', ')} ` +
          `ON CONFLICT (tenant_id, id) DO NOTHING`,
      );
    }
    await this.tx.runGlobal((manager) => manager.query(statements.join(';\n')));
  }

  /** Newest first; `after` continues from the last row of the previous page. */
  list(tenantId: string, limit: number, after?: AuditPageCursor): Promise<AuditEventEntity[]> {
    return this.tx.run(tenantId, (manager) => {
      const query = manager
        .getRepository(AuditEventEntity)
        .createQueryBuilder('e')
        .where('e.tenant_id = :tenantId', { tenantId })
        .orderBy('e.occurred_at', 'DESC')
        .addOrderBy('e.id', 'DESC')
        .limit(limit);
      if (after) {
        query.andWhere('(e.occurred_at, e.id) < (:at, :id)', {
          at: after.occurredAt,
          id: after.id,
        });
      }
      return query.getMany();
    });
  }
}
