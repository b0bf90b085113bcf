import { Inject, Injectable } from '@nestjs/common';
import { addToOutbox, TenantTransactions, type OutboxMessage } from '@tenantry/persistence';
import type { EntityManager } from 'typeorm';
import { PlanEntity } from './plan.entity.js';

/** What an edit of a plan changes; the repository applies it under a row lock. */
export type PlanChange = (current: PlanEntity) => {
  plan: PlanEntity;
  events: OutboxMessage[];
} | null;

/** The only code that touches the plans table (platform-level: no row-level security). */
@Injectable()
export class PlanRepository {
  constructor(@Inject(TenantTransactions) private readonly tx: TenantTransactions) {}

  /** Every plan, in listing order. */
  all(): Promise<PlanEntity[]> {
    return this.tx.runGlobal((manager) => manager.find(PlanEntity, { order: { position: 'ASC' } }));
  }

  find(key: string, manager?: EntityManager): Promise<PlanEntity | null> {
    if (manager) return manager.findOneBy(PlanEntity, { key: key as PlanEntity['key'] });
    return this.tx.runGlobal((m) => m.findOneBy(PlanEntity, { key: key as PlanEntity['key'] }));
  }

  /**
   * Locks the plan, lets `change` compute its new state and announcements, and writes both
   * (version + 1) in one transaction. Null when there is no such plan.
   */
  update(key: string, change: PlanChange): Promise<PlanEntity | null> {
    return this.tx.runGlobal(async (manager) => {
      const current = await manager.findOne(PlanEntity, {
        where: { key: key as PlanEntity['key'] },
        lock: { mode: 'pessimistic_write' },
      });
      if (!current) return null;
      const next = change(current);
      if (!next) return current;
      await manager.update(
        PlanEntity,
        { key: current.key },
        {
          name: next.plan.name,
          description: next.plan.description,
          quotas: next.plan.quotas,
          features: next.plan.features,
          version: next.plan.version,
          updatedAt: next.plan.updatedAt,
        },
      );
      await addToOutbox(manager, next.events);
      return next.plan;
    });
  }
}
