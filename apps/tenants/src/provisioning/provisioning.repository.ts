import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { addToOutbox, type OutboxMessage } from '@tenantry/persistence';
import type { EntityManager, Repository } from 'typeorm';
import {
  ProvisioningRunEntity,
  ProvisioningStepEntity,
  type RunKind,
  type RunStatus,
  type StepStatus,
} from './provisioning-run.entity.js';
import type { StepOutcome, StepOutput } from './step-registry.js';

export interface NewRun {
  id: string;
  tenantId: string;
  kind: RunKind;
  input: Record<string, unknown>;
  notBefore?: Date | null;
  /** The steps in order: name and the service each drives. */
  steps: { name: string; service: string }[];
}

/** Runs that are not finished: the reconciler's work list. */
export const OPEN_RUN_STATUSES: readonly RunStatus[] = ['pending', 'running', 'compensating'];

export interface TenantTable {
  table: string;
  rls: boolean;
  forced: boolean;
  policy: boolean;
}

/** The only code that touches provisioning_runs and provisioning_steps. */
@Injectable()
export class ProvisioningRepository {
  constructor(
    @InjectRepository(ProvisioningRunEntity)
    private readonly runs: Repository<ProvisioningRunEntity>,
    @InjectRepository(ProvisioningStepEntity)
    private readonly steps: Repository<ProvisioningStepEntity>,
  ) {}

  /** Inserts a run (status `pending`) and its steps, in the caller's transaction. */
  async insertRun(manager: EntityManager, run: NewRun): Promise<void> {
    await manager.query(
      `INSERT INTO provisioning_runs (id, tenant_id, kind, status, input, not_before)
       VALUES ($1, $2, $3, 'pending', $4::jsonb, $5)`,
      [run.id, run.tenantId, run.kind, JSON.stringify(run.input), run.notBefore ?? null],
    );
    if (!run.steps.length) return;
    const values: unknown[] = [];
    const rows = run.steps.map((step, position) => {
      values.push(run.id, step.name, step.service, position);
      const p = position * 4;
      return `($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}, 'pending')`;
    });
    await manager.query(
      `INSERT INTO provisioning_steps (run_id, name, service, position, status) VALUES ${rows.join(', ')}`,
      values,
    );
  }

  /** `insertRun` in a transaction of its own. */
  async createRun(run: NewRun): Promise<void> {
    await this.runs.manager.transaction((manager) => this.insertRun(manager, run));
  }

  findRun(id: string): Promise<ProvisioningRunEntity | null> {
    return this.runs.findOneBy({ id });
  }

  findSteps(runId: string): Promise<ProvisioningStepEntity[]> {
    return this.steps.find({ where: { runId }, order: { position: 'ASC' } });
  }

  /** The tenant's runs, newest first. */
  listRuns(tenantId: string, limit = 100): Promise<ProvisioningRunEntity[]> {
    return this.runs.find({
      where: { tenantId },
      order: { createdAt: 'DESC', id: 'DESC' },
      take: limit,
    });
  }

  /** The steps of several runs, in order, by run id. */
  async stepsOf(runIds: string[]): Promise<Map<string, ProvisioningStepEntity[]>> {
    const byRun = new Map<string, ProvisioningStepEntity[]>(runIds.map((id) => [id, []]));
    if (!runIds.length) return byRun;
    const rows = await this.steps
      .createQueryBuilder('s')
      .where('s.run_id IN (:...runIds)', { runIds })
      .orderBy('s.position', 'ASC')
      .getMany();
    for (const row of rows) byRun.get(row.runId)?.push(row);
    return byRun;
  }

  /** Runs not finished, oldest first: pending, running or compensating. */
  openRuns(limit: number): Promise<ProvisioningRunEntity[]> {
    return this.runs
      .createQueryBuilder('r')
      .where('r.status IN (:...statuses)', { statuses: OPEN_RUN_STATUSES })
      .orderBy('r.created_at', 'ASC')
      .limit(limit)
      .getMany();
  }

  /** The run a bulk operation's item started, if it got that far. */
  async findByBulkItem(
    operationId: string,
    index: number,
  ): Promise<{ id: string; tenantId: string } | null> {
    const rows = (await this.runs.query(
      `SELECT id, tenant_id FROM provisioning_runs
        WHERE kind = 'provision' AND input->'bulk'->>'operationId' = $1
          AND (input->'bulk'->>'index')::int = $2
        ORDER BY created_at LIMIT 1`,
      [operationId, index],
    )) as { id: string; tenant_id: string }[];
    return rows[0] ? { id: rows[0].id, tenantId: rows[0].tenant_id } : null;
  }

  /**
   * Marks the run running (unless it is no longer pending or running: cancelled, finished or
   * compensating) and the step started once more; returns the step's attempt count, or null
   * when the run may not go on.
   */
  async startStep(runId: string, step: string, events: OutboxMessage[]): Promise<number | null> {
    return this.runs.manager.transaction(async (manager) => {
      const [run] = (await manager.query(
        `UPDATE provisioning_runs SET status = 'running', started_at = COALESCE(started_at, now())
          WHERE id = $1 AND status IN ('pending', 'running') RETURNING id`,
        [runId],
      )) as [{ id: string }[], number];
      if (!run.length) return null;
      const [rows] = (await manager.query(
        `UPDATE provisioning_steps
            SET status = 'running', attempts = attempts + 1, started_at = COALESCE(started_at, now())
          WHERE run_id = $1 AND name = $2 RETURNING attempts`,
        [runId, step],
      )) as [{ attempts: number }[], number];
      await addToOutbox(manager, events);
      return rows[0]?.attempts ?? null;
    });
  }

  /**
   * Records the step as succeeded with its output, running its `commit` in the same
   * transaction; the last step finishes the run. Returns the recorded output, or null when
   * the step was already recorded (a second delivery): then nothing is written.
   */
  async completeStep(
    runId: string,
    step: string,
    outcome: StepOutcome,
    last: boolean,
    events: OutboxMessage[],
  ): Promise<StepOutput | null> {
    return this.runs.manager.transaction(async (manager) => {
      const [locked] = (await manager.query(
        `SELECT status FROM provisioning_steps WHERE run_id = $1 AND name = $2 FOR UPDATE`,
        [runId, step],
      )) as { status: StepStatus }[];
      if (!locked || locked.status === 'succeeded') return null;
      const extra = outcome.commit ? await outcome.commit(manager) : undefined;
      const output = { ...outcome.output, ...(extra ?? {}) };
      await manager.query(
        `UPDATE provisioning_steps
            SET status = 'succeeded', finished_at = now(), error = NULL, output = $3::jsonb
          WHERE run_id = $1 AND name = $2`,
        [runId, step, JSON.stringify(output)],
      );
      if (last) {
        await manager.query(
          `UPDATE provisioning_runs SET status = 'succeeded', finished_at = now(), error = NULL
            WHERE id = $1`,
          [runId],
        );
      }
      await addToOutbox(manager, events);
      return output;
    });
  }

  /** An attempt failed and the step will be tried again: its error is kept for operators. */
  async recordAttemptError(
    runId: string,
    step: string,
    error: string,
    events: OutboxMessage[],
  ): Promise<void> {
    await this.runs.manager.transaction(async (manager) => {
      await manager.query(
        `UPDATE provisioning_steps SET error = $3 WHERE run_id = $1 AND name = $2`,
        [runId, step, error],
      );
      await addToOutbox(manager, events);
    });
  }

  /**
   * The step finally failed: the run turns `compensating` (remembering the step and why),
   * the step `failed`. False when the run was already past that (finished or cancelled).
   */
  async beginCompensation(
    runId: string,
    step: string,
    error: string,
    events: OutboxMessage[],
  ): Promise<boolean> {
    return this.runs.manager.transaction(async (manager) => {
      const [rows] = (await manager.query(
        `UPDATE provisioning_runs SET status = 'compensating', failed_step = $2, error = $3
          WHERE id = $1 AND status IN ('pending', 'running') RETURNING id`,
        [runId, step, error],
      )) as [{ id: string }[], number];
      if (!rows.length) return false;
      await manager.query(
        `UPDATE provisioning_steps SET status = 'failed', error = $3, finished_at = now()
          WHERE run_id = $1 AND name = $2`,
        [runId, step, error],
      );
      await addToOutbox(manager, events);
      return true;
    });
  }

  /** Sets a step's status (compensation), merging `output` into what it recorded. */
  async setStepStatus(
    runId: string,
    step: string,
    status: StepStatus,
    patch: { error?: string | null; output?: StepOutput; finished?: boolean },
    events: OutboxMessage[],
  ): Promise<void> {
    await this.runs.manager.transaction(async (manager) => {
      await manager.query(
        `UPDATE provisioning_steps
            SET status = $3,
                error = CASE WHEN $4::boolean THEN $5 ELSE error END,
                output = CASE WHEN $6::jsonb IS NULL THEN output ELSE COALESCE(output, '{}'::jsonb) || $6::jsonb END,
                finished_at = CASE WHEN $7::boolean THEN now() ELSE finished_at END
          WHERE run_id = $1 AND name = $2`,
        [
          runId,
          step,
          status,
          patch.error !== undefined,
          patch.error ?? null,
          patch.output ? JSON.stringify(patch.output) : null,
          patch.finished ?? false,
        ],
      );
      await addToOutbox(manager, events);
    });
  }

  /**
   * Ends the run (`failed` or `cancelled`); steps that never ran become `skipped`. A failed
   * run keeps the step and reason given to `beginCompensation` unless others are given.
   */
  async finishRun(
    runId: string,
    status: 'failed' | 'cancelled',
    failure: { step?: string; error?: string },
    events: OutboxMessage[],
  ): Promise<void> {
    await this.runs.manager.transaction(async (manager) => {
      await manager.query(
        `UPDATE provisioning_runs
            SET status = $2, finished_at = now(),
                failed_step = COALESCE($3, failed_step), error = COALESCE($4, error)
          WHERE id = $1`,
        [runId, status, failure.step ?? null, failure.error ?? null],
      );
      await manager.query(
        `UPDATE provisioning_steps SET status = 'skipped' WHERE run_id = $1 AND status = 'pending'`,
        [runId],
      );
      await addToOutbox(manager, events);
    });
  }

  /** Cancels a run that has not started; false when it already started or finished. */
  async cancelPending(runId: string, events: OutboxMessage[]): Promise<boolean> {
    return this.runs.manager.transaction(async (manager) => {
      const [rows] = (await manager.query(
        `UPDATE provisioning_runs SET status = 'cancelled', finished_at = now()
          WHERE id = $1 AND status = 'pending' RETURNING id`,
        [runId],
      )) as [{ id: string }[], number];
      if (!rows.length) return false;
      await manager.query(
        `UPDATE provisioning_steps SET status = 'skipped' WHERE run_id = $1 AND status = 'pending'`,
        [runId],
      );
      await addToOutbox(manager, events);
      return true;
    });
  }

  /** The reconciler enqueued the run again. */
  async addRequeue(runId: string): Promise<void> {
    await this.runs.query(`UPDATE provisioning_runs SET requeues = requeues + 1 WHERE id = $1`, [
      runId,
    ]);
  }

  /**
   * The tables of the tenants database that hold tenant data (a `tenant_id` column, and no
   * `platform-level:` comment saying why they are shared), with their row-level security.
   */
  async tenantTables(): Promise<TenantTable[]> {
    const rows = (await this.runs.query(`
      SELECT c.relname AS "table", c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
             EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid) AS policy
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema()
         AND EXISTS (SELECT 1 FROM pg_attribute a
                      WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
         AND COALESCE(obj_description(c.oid, 'pg_class'), '') NOT LIKE 'platform-level:%'
       ORDER BY c.relname`)) as TenantTable[];
    return rows;
  }

  /** Runs `work` holding a transaction-level advisory lock, or not at all when another replica holds it. */
  async exclusively<T>(key: string, work: () => Promise<T>): Promise<T | undefined> {
    return this.runs.manager.transaction(async (manager) => {
      const [row] = (await manager.query(
        `SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked`,
        [key],
      )) as { locked: boolean }[];
      if (!row?.locked) return undefined;
      return work();
    });
  }

  /**
   * A deleted tenant's runs stay (the record of its provisioning and deletion), without the
   * personal data their input held (the first admin's email); the number of runs scrubbed.
   */
  async forgetPeople(manager: EntityManager, tenantId: string): Promise<number> {
    const [, affected]: [unknown, number] = await manager.query(
      `UPDATE provisioning_runs SET input = input #- '{request,admin}'
         WHERE tenant_id = $1 AND input->'request' ? 'admin'`,
      [tenantId],
    );
    return affected;
  }
}
