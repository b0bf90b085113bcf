import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { PlanFeature, PlanKey, Quotas } from '@tenantry/contracts';

/** A plan: its quotas (null = unlimited), features and system roles; seeded by a migration. */
@Entity('plans')
export class PlanEntity {
  @PrimaryColumn('text')
  key!: PlanKey;

  /** Where it is listed (free first). */
  @Column('integer')
  position!: number;

  @Column('text')
  name!: string;

  @Column('text')
  description!: string;

  @Column('jsonb')
  quotas!: Quotas;

  @Column('jsonb')
  features!: PlanFeature[];

  @Column('jsonb')
  roles!: string[];

  /** Grows with every edit (the tenants on it are configured again). */
  @Column('integer')
  version!: number;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;
}
