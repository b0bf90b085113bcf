import { Inject, Injectable, Logger } from '@nestjs/common';
import { AppError, ErrorCode, ProvisioningEvents } from '@tenantry/contracts';
import { messageContext, newContext, type MessageContext } from '@tenantry/messaging';
import { Outbox, outboxEvent, type OutboxMessage } from '@tenantry/persistence';
import { UnrecoverableError } from 'bullmq';
import { TenantService } from '../tenants/tenant.service.js';
import { InjectTenantsSettings, type TenantsSettings } from '../tenants.settings.js';
import type { ProvisioningRunEntity, ProvisioningStepEntity } from './provisioning-run.entity.js';
import { describeError, isPermanent, PermanentStepError } from './provisioning.errors.js';
import { retryDelayMs, type StepJobData } from './provisioning.flow.js';
import { ProvisioningRepository } from './provisioning.repository.js';
import {
  StepRegistry,
  type StepContext,
  type StepDefinition,
  type StepOutput,
} from './step-registry.js';

/** The part of a BullMQ job the runner reads. */
export interface StepJob {
  data: StepJobData;
  /** Attempts that failed before this one (BullMQ's count). */
  attemptsMade: number;
  opts: { attempts?: number };
}

/** What a job answers when it had nothing to do (the run is finished, cancelled, or gone). */
export interface SkippedStep {
  skipped: string;
}

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);
/** Longest delay between two compensation attempts. */
const MAX_COMPENSATION_DELAY_MS = 30_000;

type RunRef = Pick<ProvisioningRunEntity, 'id' | 'tenantId' | 'kind'>;

/**
 * Works one step job: runs the registered step with the run's context, records attempts,
 * timings, output and errors in PostgreSQL (with a progress event through the outbox in the
 * same transaction), and on the step's last attempt compensates the finished steps in
 * reverse order and leaves the tenant `failed` with the step and the reason. Everything it
 * does is safe to do twice: a job delivered again after a crash finds the step's state.
 */
@Injectable()
export class StepRunner {
  private readonly logger = new Logger('ProvisioningRunner');

  constructor(
    @Inject(ProvisioningRepository) private readonly runs: ProvisioningRepository,
    @Inject(StepRegistry) private readonly registry: StepRegistry,
    @Inject(TenantService) private readonly tenants: TenantService,
    @Inject(Outbox) private readonly outbox: Outbox,
    @InjectTenantsSettings() private readonly settings: TenantsSettings,
  ) {}

  async process(job: StepJob): Promise<StepOutput | SkippedStep> {
    const { runId, step: name } = job.data;
    const run = await this.runs.findRun(runId);
    if (!run) return { skipped: `run ${runId} does not exist` };
    return messageContext.run(contextOf(run), () => this.processRun(run, name, job));
  }

  private async processRun(
    run: ProvisioningRunEntity,
    name: string,
    job: StepJob,
  ): Promise<StepOutput | SkippedStep> {
    if (run.status === 'compensating') {
      // The process compensating this run died: finish the compensation, then fail the job.
      await this.compensate(run);
      throw new UnrecoverableError(`run ${run.id} failed at ${run.failedStep}: ${run.error}`);
    }
    if (TERMINAL.has(run.status)) return { skipped: `run ${run.id} is ${run.status}` };
    const steps = await this.runs.findSteps(run.id);
    const index = steps.findIndex((s) => s.name === name);
    const current = steps[index];
    if (!current) throw new UnrecoverableError(`run ${run.id} has no step ${name}`);
    if (current.status === 'succeeded') return current.output ?? {};
    const waiting = steps.slice(0, index).find((s) => s.status !== 'succeeded');
    if (waiting) {
      // Jobs of a flow run in order; this is a re-enqueued chain racing a late job. Try later.
      throw new Error(`step ${name} waits for step ${waiting.name}, which is ${waiting.status}`);
    }
    const attempt = job.attemptsMade + 1;
    const definition = this.registry.get(run.kind, name);
    if (!definition) {
      await this.fail(run, name, `step ${name} is not registered in this version of the service`);
      throw new UnrecoverableError(`step ${name} is not registered`);
    }
    const started = await this.runs.startStep(run.id, name, [
      progress(run, name, 'running', attempt),
    ]);
    this.outbox.kick();
    if (started === null) return { skipped: `run ${run.id} may no longer run` };
    const context = stepContext(run, steps, attempt);
    try {
      const outcome = (await definition.run(context)) ?? {};
      const last = index === steps.length - 1;
      const output = await this.runs.completeStep(run.id, name, outcome, last, [
        progress(run, name, 'succeeded', attempt),
        ...(last ? [progress(run, null, 'succeeded', attempt)] : []),
      ]);
      this.outbox.kick();
      return output ?? current.output ?? {};
    } catch (error) {
      const message = describeError(error);
      const final = isPermanent(error) || attempt >= (job.opts.attempts ?? 1);
      if (!final) {
        await this.runs.recordAttemptError(run.id, name, message, [
          progress(run, name, 'retrying', attempt, message),
        ]);
        this.outbox.kick();
        throw error instanceof Error ? error : new Error(message);
      }
      await this.fail(run, name, message);
      throw new UnrecoverableError(`step ${name} failed after ${attempt} attempt(s): ${message}`);
    }
  }

  /**
   * The step finally failed. A provision run compensates (the failed step too, whose work
   * may be half done, then the finished steps in reverse order) and leaves the tenant
   * `failed`; a deprovision run cannot be undone: it stops, failed, for an operator to retry.
   */
  async fail(run: ProvisioningRunEntity, step: string, message: string): Promise<void> {
    this.logger.warn(
      `${run.kind} run ${run.id} of tenant ${run.tenantId}: step ${step} failed: ${message}`,
    );
    if (run.kind === 'deprovision') {
      await this.runs.setStepStatus(run.id, step, 'failed', { error: message, finished: true }, [
        progress(run, step, 'failed', 0, message),
      ]);
      await this.runs.finishRun(run.id, 'failed', { step, error: message }, [
        progress(run, null, 'failed', 0, message),
      ]);
      this.outbox.kick();
      return;
    }
    const began = await this.runs.beginCompensation(run.id, step, message, [
      progress(run, step, 'failed', 0, message),
      progress(run, null, 'compensating', 0, message),
    ]);
    this.outbox.kick();
    if (!began) return;
    await this.compensate({ ...run, status: 'compensating', failedStep: step, error: message });
  }

  /**
   * Undoes a failed provision run: the failed step, then every finished step in reverse
   * order (each compensation retried with backoff; one that still fails is recorded and the
   * others go on); then the tenant turns `failed` with the step and the reason, and the run
   * ends `failed`. Resumable: compensated steps are not compensated again.
   */
  async compensate(run: ProvisioningRunEntity): Promise<void> {
    await messageContext.run(messageContext.current() ?? contextOf(run), async () => {
      const steps = await this.runs.findSteps(run.id);
      const outputs = outputsOf(steps);
      for (const step of [...steps].sort((a, b) => b.position - a.position)) {
        const definition = this.registry.get(run.kind, step.name);
        if (!definition?.compensate) continue;
        const failedStep = step.name === run.failedStep && step.status === 'failed';
        if (failedStep) {
          if (step.output?.['compensated'] !== undefined) continue;
          await this.compensateFailedStep(run, step, definition, outputs);
        } else if (step.status === 'succeeded' || step.status === 'compensating') {
          await this.compensateStep(run, step, definition, outputs);
        }
      }
      const reason = `provisioning failed at step ${run.failedStep}: ${run.error}`;
      try {
        await this.tenants.transition(run.tenantId, 'failed', {
          from: ['provisioning'],
          reason: reason.slice(0, 1000),
          runId: run.id,
        });
      } catch (error) {
        // Already failed (a second pass), or moved on by someone else: the run ends all the same.
        if (!(error instanceof AppError && error.code === ErrorCode.Conflict)) throw error;
        this.logger.warn(`tenant ${run.tenantId} not marked failed: ${describeError(error)}`);
      }
      await this.runs.finishRun(run.id, 'failed', {}, [
        progress(run, null, 'failed', 0, run.error),
      ]);
      this.outbox.kick();
    });
  }

  private async compensateStep(
    run: ProvisioningRunEntity,
    step: ProvisioningStepEntity,
    definition: StepDefinition,
    outputs: Record<string, StepOutput | null>,
  ): Promise<void> {
    await this.runs.setStepStatus(run.id, step.name, 'compensating', {}, [
      progress(run, step.name, 'compensating', 0),
    ]);
    this.outbox.kick();
    try {
      const undone = await this.withRetries(() =>
        definition.compensate!(compensationContext(run, outputs)),
      );
      await this.runs.setStepStatus(
        run.id,
        step.name,
        'compensated',
        { output: { compensation: undone ?? {} }, finished: true },
        [progress(run, step.name, 'compensated', 0)],
      );
    } catch (error) {
      const message = `compensation failed: ${describeError(error)}`;
      this.logger.error(`run ${run.id}, step ${step.name}: ${message}`);
      await this.runs.setStepStatus(run.id, step.name, 'failed', { error: message }, [
        progress(run, step.name, 'failed', 0, message),
      ]);
    }
    this.outbox.kick();
  }

  /** The failed step may have done part of its work: undo it too, recording how that went. */
  private async compensateFailedStep(
    run: ProvisioningRunEntity,
    step: ProvisioningStepEntity,
    definition: StepDefinition,
    outputs: Record<string, StepOutput | null>,
  ): Promise<void> {
    let output: StepOutput;
    try {
      const undone = await this.withRetries(() =>
        definition.compensate!(compensationContext(run, outputs)),
      );
      output = { compensated: true, compensation: undone ?? {} };
    } catch (error) {
      output = { compensated: false, compensationError: describeError(error) };
    }
    await this.runs.setStepStatus(run.id, step.name, 'failed', { output }, []);
  }

  /** `work` with the step's attempts and exponential backoff. */
  private async withRetries<T>(work: () => Promise<T>): Promise<T> {
    const policy = this.settings.provisioning;
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        if (attempt >= policy.attempts || error instanceof PermanentStepError) throw error;
        const delay = Math.min(MAX_COMPENSATION_DELAY_MS, retryDelayMs(attempt, policy));
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}

/** The context a run's steps work in: the actor who asked for the run, its request id. */
function contextOf(run: ProvisioningRunEntity): MessageContext {
  const input = run.input as { actor?: unknown; requestId?: unknown };
  return newContext({
    ...(typeof input.actor === 'string' ? { actor: input.actor } : {}),
    ...(typeof input.requestId === 'string' ? { requestId: input.requestId } : {}),
  });
}

function outputsOf(steps: ProvisioningStepEntity[]): Record<string, StepOutput | null> {
  return Object.fromEntries(steps.map((s) => [s.name, s.output]));
}

function stepContext(
  run: ProvisioningRunEntity,
  steps: ProvisioningStepEntity[],
  attempt: number,
): StepContext {
  return {
    runId: run.id,
    tenantId: run.tenantId,
    kind: run.kind,
    input: run.input,
    attempt,
    outputs: outputsOf(steps),
  };
}

function compensationContext(
  run: ProvisioningRunEntity,
  outputs: Record<string, StepOutput | null>,
): StepContext {
  return {
    runId: run.id,
    tenantId: run.tenantId,
    kind: run.kind,
    input: run.input,
    attempt: 1,
    outputs,
  };
}

/** A progress event (`ProvisioningEvents.progress`) for the outbox; its message id makes a retry harmless. */
export function progress(
  run: RunRef,
  step: string | null,
  status: string,
  attempt: number,
  error: string | null = null,
): OutboxMessage {
  return outboxEvent(
    ProvisioningEvents.progress.schema,
    ProvisioningEvents.progress.subject,
    {
      runId: run.id,
      tenantId: run.tenantId,
      kind: run.kind,
      step,
      status,
      attempt,
      error: error === null ? null : error.slice(0, 1000),
      at: new Date().toISOString(),
    },
    `provisioning:${run.id}:${step ?? 'run'}:${status}:${attempt}`,
    messageContext.current(),
  );
}
