import type { ProvisioningRun, ProvisioningStep } from '@tenantry/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';

export type RunKind = ProvisioningRun['kind'];
export type RunStatus = ProvisioningRun['status'];
export type StepStatus = ProvisioningStep['status'];

/** A run of a pipeline over a tenant (`provisioning_runs`). */
@Entity('provisioning_runs')
export class ProvisioningRunEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'tenant_id' })
  tenantId!: string;

  @Column('text')
  kind!: RunKind;

  @Column('text')
  status!: RunStatus;

  /** What the run was asked to do (RunInput). */
  @Column('jsonb')
  input!: Record<string, unknown>;

  @Column('text', { name: 'failed_step', nullable: true })
  failedStep!: string | null;

  @Column('text', { nullable: true })
  error!: string | null;

  @Column('integer')
  requeues!: number;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'started_at', nullable: true })
  startedAt!: Date | null;

  @Column('timestamptz', { name: 'finished_at', nullable: true })
  finishedAt!: Date | null;

  @Column('timestamptz', { name: 'not_before', nullable: true })
  notBefore!: Date | null;
}

/** One step of a run (`provisioning_steps`), in the order of `position`. */
@Entity('provisioning_steps')
export class ProvisioningStepEntity {
  @PrimaryColumn('uuid', { name: 'run_id' })
  runId!: string;

  @PrimaryColumn('text')
  name!: string;

  @Column('text')
  service!: string;

  @Column('integer')
  position!: number;

  @Column('text')
  status!: StepStatus;

  @Column('integer')
  attempts!: number;

  @Column('timestamptz', { name: 'started_at', nullable: true })
  startedAt!: Date | null;

  @Column('timestamptz', { name: 'finished_at', nullable: true })
  finishedAt!: Date | null;

  @Column('text', { nullable: true })
  error!: string | null;

  @Column('jsonb', { nullable: true })
  output!: Record<string, unknown> | null;
}
