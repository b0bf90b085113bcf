import { uuidv7 } from '@tenantry/runtime';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import {
  type CreateTenantRequest,
  type ProvisioningRun,
  type TenantAccepted,
} from '@tenantry/contracts';
import { messageContext } from '@tenantry/messaging';
import { Outbox, TenantTransactions } from '@tenantry/persistence';
import { TenantQueues } from '../queues/tenant-queues.js';
import { TemplateService, type RenderTemplateRequest } from '../templates/template.service.js';
import { TenantDataRemovers } from '../tenants/tenant-data.js';
import { TenantService } from '../tenants/tenant.service.js';
import { InjectTenantsSettings, type TenantsSettings } from '../tenants.settings.js';
import type {
  ProvisioningRunEntity,
  ProvisioningStepEntity,
  RunKind,
} from './provisioning-run.entity.js';
import { ProvisioningErrors } from './provisioning.errors.js';
import { buildRunFlow } from './provisioning.flow.js';
import { ProvisioningRepository, type NewRun } from './provisioning.repository.js';
import { StepRegistry, type DeprovisionInput, type ProvisionInput } from './step-registry.js';
import { progress } from './step-runner.js';

/** How long `provisionNew` waits for Redis before leaving the enqueue to the reconciler. */
const ENQUEUE_TIMEOUT_MS = 2_000;

/**
 * Starts runs and answers about them. The run is stored first (PostgreSQL is the truth),
 * then its steps are enqueued as a BullMQ flow; when Redis is away at that moment, the
 * reconciler enqueues it a little later.
 */
@Injectable()
export class ProvisioningService implements OnModuleInit {
  private readonly logger = new Logger('Provisioning');

  constructor(
    @Inject(TenantTransactions) private readonly transactions: TenantTransactions,
    @Inject(ProvisioningRepository) private readonly runs: ProvisioningRepository,
    @Inject(StepRegistry) private readonly registry: StepRegistry,
    @Inject(TenantService) private readonly tenants: TenantService,
    @Inject(TemplateService) private readonly templates: TemplateService,
    @Inject(TenantQueues) private readonly queues: TenantQueues,
    @Inject(Outbox) private readonly outbox: Outbox,
    @InjectTenantsSettings() private readonly settings: TenantsSettings,
    @Inject(TenantDataRemovers) private readonly removers: TenantDataRemovers,
  ) {}

  /** Deleting a tenant's data takes the first admin's email out of its runs' input. */
  onModuleInit(): void {
    this.removers.register('provisioning', async (manager, tenantId) => ({
      provisioning_runs_scrubbed: await this.runs.forgetPeople(manager, tenantId),
    }));
  }

  /**
   * A new tenant: in one transaction the tenant (status `provisioning`, with its audit fact
   * and event) and its run; then the run's steps are enqueued. Answers at once (202).
   */
  async provisionNew(
    request: CreateTenantRequest,
    extra: Pick<ProvisionInput, 'bulk'> = {},
  ): Promise<TenantAccepted> {
    const runId = uuidv7();
    const context = messageContext.current();
    const input: ProvisionInput = {
      request,
      ...(context?.actor ? { actor: context.actor } : {}),
      ...(context?.requestId ? { requestId: context.requestId } : {}),
      ...extra,
    };
    const run = this.newRun(runId, '', 'provision', input as unknown as Record<string, unknown>);
    const tenant = await this.transactions.runGlobal(async (manager) => {
      const created = await this.tenants.insertProvisioning(manager, request, runId);
      await this.runs.insertRun(manager, { ...run, tenantId: created.id });
      return created;
    });
    await this.tenants.afterCommit(tenant.id);
    await this.enqueueQuietly(runId);
    return { tenant, runId };
  }

  /** A tenant from a template: rendered (refused with the path of every problem), then provisioned. */
  async instantiate(request: RenderTemplateRequest): Promise<TenantAccepted> {
    return this.provisionNew(await this.templates.render(request));
  }

  /**
   * Stores a deprovision run (pending until `notBefore`) for a tenant; the caller moves the
   * tenant to `deprovisioning` and then enqueues it.
   */
  async createDeprovisionRun(
    tenantId: string,
    input: DeprovisionInput,
    notBefore: Date,
  ): Promise<string> {
    const runId = uuidv7();
    await this.runs.createRun({
      ...this.newRun(runId, tenantId, 'deprovision', input as unknown as Record<string, unknown>),
      notBefore,
    });
    return runId;
  }

  private newRun(
    id: string,
    tenantId: string,
    kind: RunKind,
    input: Record<string, unknown>,
  ): NewRun {
    const steps = this.registry.steps(kind).map((s) => ({ name: s.name, service: s.service }));
    return { id, tenantId, kind, input, steps };
  }

  /** The tenant's latest run with its steps. */
  async get(tenantId: string): Promise<ProvisioningRun> {
    await this.tenants.get(tenantId);
    const [run] = await this.runs.listRuns(tenantId, 1);
    if (!run) throw ProvisioningErrors.runNotFound(tenantId);
    return toContract(run, await this.runs.findSteps(run.id));
  }

  /** Every run of the tenant, newest first. */
  async list(tenantId: string): Promise<{ items: ProvisioningRun[] }> {
    await this.tenants.get(tenantId);
    const runs = await this.runs.listRuns(tenantId);
    const steps = await this.runs.stepsOf(runs.map((r) => r.id));
    return { items: runs.map((run) => toContract(run, steps.get(run.id) ?? [])) };
  }

  /**
   * A new run for a tenant whose last one failed: a `failed` tenant is provisioned again
   * (back to `provisioning`, with the same request); a tenant whose deletion failed is
   * deleted again, at once.
   */
  async retry(tenantId: string): Promise<ProvisioningRun> {
    const tenant = await this.tenants.get(tenantId);
    const [latest] = await this.runs.listRuns(tenantId, 1);
    const retriesProvision = tenant.status === 'failed' && latest?.kind === 'provision';
    const retriesDeletion =
      tenant.status === 'deprovisioning' &&
      latest?.kind === 'deprovision' &&
      latest.status === 'failed';
    if (!latest || (!retriesProvision && !retriesDeletion) || latest.status !== 'failed') {
      throw ProvisioningErrors.retryNotFailed(tenantId, tenant.status, latest?.status ?? null);
    }
    const context = messageContext.current();
    const input = {
      ...latest.input,
      ...(context?.actor ? { actor: context.actor } : {}),
      ...(context?.requestId ? { requestId: context.requestId } : {}),
    };
    const runId = uuidv7();
    await this.runs.createRun({
      ...this.newRun(runId, tenantId, latest.kind, input),
      notBefore: retriesDeletion ? new Date() : null,
    });
    try {
      await this.tenants.transition(
        tenantId,
        retriesProvision ? 'provisioning' : 'deprovisioning',
        {
          from: [tenant.status],
          reason: null,
          runId,
          ...(retriesDeletion ? { deleteAfter: new Date() } : {}),
        },
      );
    } catch (error) {
      await this.runs.cancelPending(runId, [
        progress({ id: runId, tenantId, kind: latest.kind }, null, 'cancelled', 0),
      ]);
      this.outbox.kick();
      throw error;
    }
    await this.enqueueQuietly(runId);
    const run = await this.runs.findRun(runId);
    return toContract(run!, await this.runs.findSteps(runId));
  }

  /**
   * Enqueues the run's remaining steps (from the first not succeeded) as one flow, the first
   * held back until the run's `notBefore`. Throws SERVICE_UNAVAILABLE when Redis does not
   * answer.
   */
  async enqueue(
    run: ProvisioningRunEntity,
    steps?: ProvisioningStepEntity[],
    timeoutMs?: number,
  ): Promise<boolean> {
    const all = steps ?? (await this.runs.findSteps(run.id));
    const first = all.findIndex((s) => s.status !== 'succeeded');
    if (first < 0) return false;
    const remaining = all.slice(first).map((s) => s.name);
    const delayMs = run.notBefore ? Math.max(0, run.notBefore.getTime() - Date.now()) : 0;
    const flow = buildRunFlow(run, remaining, this.settings.provisioning, delayMs);
    await this.queues.addFlow(flow, timeoutMs);
    return true;
  }

  /** `enqueue`, leaving it to the reconciler when Redis is away. */
  async enqueueQuietly(runId: string): Promise<void> {
    try {
      const run = await this.runs.findRun(runId);
      if (run) await this.enqueue(run, undefined, ENQUEUE_TIMEOUT_MS);
    } catch (error) {
      this.logger.warn(
        `run ${runId} not enqueued now (the reconciler will): ${(error as Error).message}`,
      );
    }
  }
}

export function toContract(
  run: ProvisioningRunEntity,
  steps: ProvisioningStepEntity[],
): ProvisioningRun {
  return {
    id: run.id,
    tenantId: run.tenantId,
    kind: run.kind,
    status: run.status,
    failedStep: run.failedStep,
    error: run.error,
    steps: steps.map((step) => ({
      name: step.name,
      service: step.service,
      position: step.position,
      status: step.status,
      attempts: step.attempts,
      startedAt: step.startedAt?.toISOString() ?? null,
      finishedAt: step.finishedAt?.toISOString() ?? null,
      durationMs:
        step.startedAt && step.finishedAt
          ? step.finishedAt.getTime() - step.startedAt.getTime()
          : null,
      error: step.error,
      output: step.output,
    })),
    requeues: run.requeues,
    createdAt: run.createdAt.toISOString(),
    startedAt: run.startedAt?.toISOString() ?? null,
    finishedAt: run.finishedAt?.toISOString() ?? null,
    notBefore: run.notBefore?.toISOString() ?? null,
  };
}
