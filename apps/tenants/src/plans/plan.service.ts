import { Inject, Injectable } from '@nestjs/common';
import {
  PLAN_FEATURES,
  PLATFORM_TENANT_ID,
  QUOTA_KEYS,
  type Plan,
  type RpcPayload,
  type PlanRpc,
} from '@tenantry/contracts';
import { Outbox, outboxAuditFact } from '@tenantry/persistence';
import type { EntityManager } from 'typeorm';
import { PlanEntity } from './plan.entity.js';
import { PlanErrors } from './plan.errors.js';
import { PlanRepository } from './plan.repository.js';

type UpdatePlanRequest = RpcPayload<typeof PlanRpc.update>;

/** The plans: listed, read, and edited by operators (every tenant on a plan gets its new limits). */
@Injectable()
export class PlanService {
  constructor(
    @Inject(PlanRepository) private readonly plans: PlanRepository,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  async list(): Promise<{ items: Plan[] }> {
    return { items: (await this.plans.all()).map(toPlan) };
  }

  async get(key: string): Promise<Plan> {
    return toPlan(await this.entity(key));
  }

  /** The plan's row (for the tenant registry: limits, features, roles, version); NOT_FOUND naming `field`. */
  async entity(key: string, manager?: EntityManager, field?: string): Promise<PlanEntity> {
    const plan = await this.plans.find(key, manager);
    if (!plan) throw PlanErrors.notFound(key, field);
    return plan;
  }

  /**
   * Changes a plan's name, description, quotas (the keys given; null = unlimited) or
   * features (the list given replaces the old). Audited in the platform's log. The tenants on
   * the plan see the new limits at once; their participants are configured again by the
   * tenants' maintenance loop (the plan's version grew).
   */
  async update(request: UpdatePlanRequest): Promise<Plan> {
    const updated = await this.plans.update(request.key, (current) => {
      const quotas = { ...current.quotas };
      for (const key of QUOTA_KEYS) {
        if (request.quotas && key in request.quotas) quotas[key] = request.quotas[key] ?? null;
      }
      const features = request.features
        ? PLAN_FEATURES.filter((f) => request.features!.includes(f))
        : current.features;
      const plan = Object.assign(new PlanEntity(), {
        ...current,
        name: request.name ?? current.name,
        description: request.description ?? current.description,
        quotas,
        features,
        version: current.version + 1,
        updatedAt: new Date(),
      });
      const changes = changedFields(current, plan);
      if (!changes.length) return null;
      return {
        plan,
        events: [
          outboxAuditFact({
            tenantId: PLATFORM_TENANT_ID,
            category: 'tenants',
            action: 'plan.updated',
            target: { type: 'plan', id: plan.key },
            data: {
              plan: plan.key,
              changed: changes,
              before: pick(current, changes),
              after: pick(plan, changes),
            },
            service: 'tenants',
          }),
        ],
      };
    });
    if (!updated) throw PlanErrors.notFound(request.key, 'key');
    this.outbox.kick();
    return toPlan(updated);
  }
}

const EDITABLE = ['name', 'description', 'quotas', 'features'] as const;

function changedFields(before: PlanEntity, after: PlanEntity): (typeof EDITABLE)[number][] {
  return EDITABLE.filter((f) => JSON.stringify(before[f]) !== JSON.stringify(after[f]));
}

function pick(plan: PlanEntity, fields: readonly (typeof EDITABLE)[number][]) {
  return Object.fromEntries(fields.map((f) => [f, plan[f]]));
}

export function toPlan(entity: PlanEntity): Plan {
  return {
    key: entity.key,
    name: entity.name,
    description: entity.description,
    quotas: entity.quotas,
    features: entity.features,
    roles: entity.roles,
    updatedAt: entity.updatedAt.toISOString(),
  };
}
