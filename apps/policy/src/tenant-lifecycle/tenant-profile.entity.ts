import type { PlanFeature, PlanKey, Quotas } from '@tenantry/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/** What the tenants service last told the policy service about a tenant (row-level security). */
@Entity('tenant_profiles')
export class TenantProfileEntity {
  @PrimaryColumn('uuid', { name: 'tenant_id' })
  tenantId!: string;

  @Column('text')
  plan!: PlanKey;

  /** The effective limits (plan quotas with the tenant's overrides); null: unlimited. */
  @Column('jsonb')
  limits!: Quotas;

  @Column('text', { array: true })
  features!: PlanFeature[];

  /** The system roles the plan gives the tenant. */
  @Column('text', { array: true })
  roles!: string[];

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;
}
