import { Inject, Injectable } from '@nestjs/common';
import type { QueryDeepPartialEntity } from 'typeorm';
import { setTenant, TenantTransactions } from '@tenantry/persistence';
import { AuditEventEntity } from './audit-event.entity.js';

export interface AuditPageCursor {
  occurredAt: Date;
  id: string;
}

/** The only code that touches the audit_events table. */
@Injectable()
export class AuditEventRepository {
  constructor(@Inject(TenantTransactions) private readonly tx: TenantTransactions) {}

  /**
   * Inserts rows of many tenants in one transaction: one multi-row INSERT per
   * tenant under that tenant's RLS context. A row already stored (same tenant and
   * id, i.e. a redelivery or a publisher's retry) is skipped, not doubled.
   */
  async insertBatch(rows: Partial<AuditEventEntity>[]): Promise<void> {
    const byTenant = new Map<string, Partial<AuditEventEntity>[]>();
    for (const row of rows) {
      const list = byTenant.get(row.tenantId!) ?? [];
      list.push(row);
      byTenant.set(row.tenantId!, list);
    }
    await this.tx.runGlobal(async (manager) => {
      for (const [tenantId, tenantRows] of byTenant) {
        await setTenant(manager, tenantId);
        await manager
          .createQueryBuilder()
          .insert()
          .into(AuditEventEntity)
          .values(tenantRows as QueryDeepPartialEntity<AuditEventEntity>[])
          .orIgnore()
          .execute();
      }
    });
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
