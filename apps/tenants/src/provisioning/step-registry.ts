import { Injectable } from '@nestjs/common';
import type { CreateTenantRequest, TenantStatus } from '@tenantry/contracts';
import type { EntityManager } from 'typeorm';
import type { RunKind } from './provisioning-run.entity.js';

export type StepOutput = Record<string, unknown>;

/** What a provision run was asked to do (`provisioning_runs.input`). */
export interface ProvisionInput {
  request: CreateTenantRequest;
  /** Who asked (`user:<id>`, `operator:<id>`, …): the participants audit it as the actor. */
  actor?: string;
  requestId?: string;
  /** The bulk operation item that created the tenant, when one did. */
  bulk?: { operationId: string; index: number };
}

/** What a deprovision run was asked to do. */
export interface DeprovisionInput {
  /** The status a cancellation returns the tenant to. */
  previousStatus: TenantStatus;
  reason: string | null;
  graceHours: number;
  actor?: string;
  requestId?: string;
}

/** The run a step works for, as a step sees it. */
export interface StepContext {
  runId: string;
  tenantId: string;
  kind: RunKind;
  input: Record<string, unknown>;
  /** 1 for the first attempt of this step. */
  attempt: number;
  /** What the run's earlier steps recorded, by step name (compensation: every step's). */
  outputs: Readonly<Record<string, StepOutput | null>>;
}

/**
 * A step's result: `output` is recorded on the step; `commit`, when given, runs inside the
 * transaction that records the step as succeeded (its return value is merged into the
 * output), so what it writes to the tenants database (a deletion, an outbox message) happens
 * exactly when the step counts as done, never twice.
 */
export interface StepOutcome {
  output?: StepOutput;
  commit?: (manager: EntityManager) => Promise<StepOutput | void>;
}

export interface StepDefinition {
  /** Unique within its pipeline, kebab-case: `identity-bootstrap`. */
  name: string;
  /** The service the step drives: `tenants`, `identity`, `policy`, `audit`, `billing`, … */
  service: string;
  /** Does the step's work; must be idempotent (it runs again after a crash or a lost reply). */
  run(context: StepContext): Promise<StepOutcome | void>;
  /** Undoes `run` when a later step (or this one) finally failed; idempotent too. */
  compensate?(context: StepContext): Promise<StepOutput | void>;
  /** Checks what `run` created is there and healthy; the `verify` step asks every step that has one. */
  verify?(context: StepContext): Promise<StepOutput | void>;
}

/** Where a step goes: after or before a registered step; default the end of the pipeline. */
export interface StepPlacement {
  after?: string;
  before?: string;
}

/**
 * The steps of each pipeline (`provision`, `deprovision`), in order. The tenants service
 * registers its own at start-up; another module adds a step of its own the same way
 * (`registry.register('provision', billingStep, { after: 'policy-bootstrap' })`) in its
 * `onModuleInit`. A run takes the list as it is when the run is created.
 */
@Injectable()
export class StepRegistry {
  private readonly pipelines: Record<RunKind, StepDefinition[]> = {
    provision: [],
    deprovision: [],
  };

  register(kind: RunKind, step: StepDefinition, placement: StepPlacement = {}): void {
    const steps = this.pipelines[kind];
    if (!/^[a-z][a-z0-9-]{0,62}$/.test(step.name)) {
      throw new Error(`step name "${step.name}" must be kebab-case (a-z, 0-9, -)`);
    }
    if (steps.some((s) => s.name === step.name)) {
      throw new Error(`the ${kind} pipeline already has a step named "${step.name}"`);
    }
    if (placement.after && placement.before) {
      throw new Error(`step "${step.name}": give after or before, not both`);
    }
    const anchor = placement.after ?? placement.before;
    if (!anchor) {
      steps.push(step);
      return;
    }
    const index = steps.findIndex((s) => s.name === anchor);
    if (index < 0) {
      throw new Error(
        `step "${step.name}" is placed ${placement.after ? 'after' : 'before'} "${anchor}", which the ${kind} pipeline does not have (it has ${steps.map((s) => s.name).join(', ') || 'no steps'})`,
      );
    }
    steps.splice(placement.after ? index + 1 : index, 0, step);
  }

  /** The pipeline's steps in order. */
  steps(kind: RunKind): readonly StepDefinition[] {
    return this.pipelines[kind];
  }

  get(kind: RunKind, name: string): StepDefinition | undefined {
    return this.pipelines[kind].find((s) => s.name === name);
  }
}
