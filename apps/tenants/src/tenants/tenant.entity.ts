import { Column, Entity, PrimaryColumn } from 'typeorm';
import type {
  IsolationMode,
  PlanKey,
  QuotaOverrides,
  TenantSettings,
  TenantStatus,
} from '@tenantry/contracts';

/** A plan change waiting for `at`, with the last refusal when the usage check said no. */
export interface StoredPlanChange {
  plan: PlanKey;
  at: string;
  /** Why the last attempt at `at` or later left it pending (a limit the usage exceeds). */
  refusal?: string;
  /** When the applier last checked it. */
  checkedAt?: string;
}

/** A tenant: platform-level (one row per tenant), so the table has no row-level security. */
@Entity('tenants')
export class TenantEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('text')
  name!: string;

  @Column('text')
  slug!: string;

  @Column('text')
  status!: TenantStatus;

  @Column('text', { name: 'status_reason', nullable: true })
  statusReason!: string | null;

  @Column('text')
  plan!: PlanKey;

  @Column('text')
  region!: string;

  @Column('text')
  isolation!: IsolationMode;

  @Column('jsonb')
  settings!: TenantSettings;

  @Column('jsonb', { name: 'limit_overrides' })
  limitOverrides!: QuotaOverrides;

  @Column('jsonb', { name: 'pending_plan_change', nullable: true })
  pendingPlanChange!: StoredPlanChange | null;

  @Column('uuid', { name: 'run_id', nullable: true })
  runId!: string | null;

  @Column('timestamptz', { name: 'trial_ends_at', nullable: true })
  trialEndsAt!: Date | null;

  @Column('timestamptz', { name: 'delete_after', nullable: true })
  deleteAfter!: Date | null;

  /** Grows with every change the participants must be told (settings, limits, plan). */
  @Column('integer', { name: 'config_version' })
  configVersion!: number;

  /** The config_version every participant last acknowledged. */
  @Column('integer', { name: 'configured_version' })
  configuredVersion!: number;

  /** The plan's version every participant was last configured with. */
  @Column('integer', { name: 'configured_plan_version' })
  configuredPlanVersion!: number;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;
}
