import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import {
  TenantLifecycleRpc,
  type RpcPayload,
  type Tenant,
  type TenantRpc,
  type TenantStatus,
} from '@tenantry/contracts';
import { messageContext } from '@tenantry/messaging';
import { Outbox } from '@tenantry/persistence';
import { ParticipantClient } from '../provisioning/participant.client.js';
import { queueOf, stepJobId } from '../provisioning/provisioning.flow.js';
import { ProvisioningRepository } from '../provisioning/provisioning.repository.js';
import { ProvisioningService } from '../provisioning/provisioning.service.js';
import type { DeprovisionInput } from '../provisioning/step-registry.js';
import { progress } from '../provisioning/step-runner.js';
import { TenantQueues } from '../queues/tenant-queues.js';
import { TenantErrors } from '../tenants/tenant.errors.js';
import { TenantService } from '../tenants/tenant.service.js';
import { LifecycleErrors } from './lifecycle.errors.js';
import { InjectTenantsSettings, type TenantsSettings } from '../tenants.settings.js';

/** Statuses from which a tenant may be scheduled for deletion. */
const DELETABLE: readonly TenantStatus[] = ['active', 'suspended', 'failed'];

/** A session revocation identity could not take at once, retried from the `lifecycle` queue. */
export interface RevokeSessionsJob {
  tenantId: string;
  reason: string;
}

/**
 * Suspension, reactivation and deletion of a tenant. Suspending revokes every session
 * (identity); deleting schedules a deprovision run at the end of the grace period (a delayed
 * BullMQ job, cancellable until it starts).
 */
@Injectable()
export class LifecycleService implements OnApplicationBootstrap {
  private readonly logger = new Logger('TenantLifecycle');

  constructor(
    @Inject(TenantService) private readonly tenants: TenantService,
    @Inject(ProvisioningService) private readonly provisioning: ProvisioningService,
    @Inject(ProvisioningRepository) private readonly runs: ProvisioningRepository,
    @Inject(ParticipantClient) private readonly participants: ParticipantClient,
    @Inject(TenantQueues) private readonly queues: TenantQueues,
    @Inject(Outbox) private readonly outbox: Outbox,
    @InjectTenantsSettings() private readonly settings: TenantsSettings,
  ) {}

  onApplicationBootstrap(): void {
    this.queues.worker<RevokeSessionsJob, unknown>(
      'lifecycle',
      async (job) => {
        const tenant = await this.tenants.get(job.data.tenantId);
        if (tenant.status !== 'suspended') return { skipped: `tenant is ${tenant.status}` };
        return this.participants.call(TenantLifecycleRpc.identity.suspend, job.data);
      },
      { concurrency: 5 },
    );
  }

  /** The tenant is refused from now on (the gateway follows its access state), and every session ends. */
  async suspend({ id, reason }: RpcPayload<typeof TenantRpc.suspend>): Promise<Tenant> {
    const tenant = await this.tenants.transition(id, 'suspended', { from: ['active'], reason });
    await this.revokeSessions(id, reason);
    return tenant;
  }

  async reactivate({ id }: RpcPayload<typeof TenantRpc.reactivate>): Promise<Tenant> {
    return this.tenants.transition(id, 'active', { from: ['suspended'], reason: null });
  }

  /**
   * Schedules the deletion: the run is stored (pending until the end of the grace period),
   * the tenant turns `deprovisioning` (refused meanwhile) with `deleteAfter`, and the run's
   * first job is enqueued delayed until then.
   */
  async deprovision({
    id,
    graceHours = this.settings.deprovisionGraceHours,
    reason,
  }: RpcPayload<typeof TenantRpc.deprovision>): Promise<Tenant> {
    const tenant = await this.tenants.get(id);
    if (!DELETABLE.includes(tenant.status)) {
      throw TenantErrors.statusConflict(tenant, 'scheduling its deletion', DELETABLE);
    }
    const deleteAfter = new Date(Date.now() + graceHours * 3_600_000);
    const context = messageContext.current();
    const input: DeprovisionInput = {
      previousStatus: tenant.status,
      reason: reason ?? null,
      graceHours,
      ...(context?.actor ? { actor: context.actor } : {}),
      ...(context?.requestId ? { requestId: context.requestId } : {}),
    };
    const runId = await this.provisioning.createDeprovisionRun(id, input, deleteAfter);
    let scheduled: Tenant;
    try {
      scheduled = await this.tenants.transition(id, 'deprovisioning', {
        from: [tenant.status],
        reason: reason ?? null,
        runId,
        deleteAfter,
      });
    } catch (error) {
      await this.runs.cancelPending(runId, [
        progress({ id: runId, tenantId: id, kind: 'deprovision' }, null, 'cancelled', 0),
      ]);
      this.outbox.kick();
      throw error;
    }
    await this.provisioning.enqueueQuietly(runId);
    return scheduled;
  }

  /** Within the grace period: the run is cancelled, its delayed job removed, the tenant back where it was. */
  async cancelDeprovision({ id }: RpcPayload<typeof TenantRpc.cancelDeprovision>): Promise<Tenant> {
    const tenant = await this.tenants.get(id);
    if (tenant.status !== 'deprovisioning') {
      throw TenantErrors.statusConflict(tenant, 'cancelling its deletion', ['deprovisioning']);
    }
    const run = tenant.runId ? await this.runs.findRun(tenant.runId) : null;
    if (!run || run.kind !== 'deprovision') {
      throw LifecycleErrors.notCancellable(id, 'it has no scheduled deletion run');
    }
    if (run.status !== 'pending') {
      throw LifecycleErrors.notCancellable(
        id,
        run.status === 'running' ? 'it has already started' : `its run is ${run.status}`,
      );
    }
    const cancelled = await this.runs.cancelPending(run.id, [progress(run, null, 'cancelled', 0)]);
    this.outbox.kick();
    if (!cancelled) throw LifecycleErrors.notCancellable(id, 'it has just started');
    await this.removeJobs(run.id);
    const previous = (run.input as Partial<DeprovisionInput>).previousStatus ?? 'active';
    return this.tenants.transition(id, previous, {
      from: ['deprovisioning'],
      reason: null,
      deleteAfter: null,
    });
  }

  /**
   * Removes the cancelled run's jobs (the chain's root with its children). Best effort: a job
   * left behind (Redis away) finds its run cancelled and does nothing.
   */
  private async removeJobs(runId: string): Promise<void> {
    const steps = await this.runs.findSteps(runId);
    const last = steps[steps.length - 1];
    if (!last) return;
    const queue = this.queues.queue(queueOf('deprovision'));
    try {
      await this.queues.within(
        queue.remove(stepJobId(runId, last.name), { removeChildren: true }),
        `removing the jobs of run ${runId}`,
      );
    } catch (error) {
      this.logger.warn(`jobs of cancelled run ${runId} not removed: ${(error as Error).message}`);
    }
  }

  /** Identity revokes the tenant's sessions; when it cannot now, a queued job keeps trying. */
  private async revokeSessions(tenantId: string, reason: string): Promise<void> {
    try {
      await this.participants.call(TenantLifecycleRpc.identity.suspend, { tenantId, reason });
    } catch (error) {
      this.logger.warn(
        `identity did not revoke the sessions of suspended tenant ${tenantId} now (${(error as Error).message}); retrying from the queue`,
      );
      try {
        await this.queues.within(
          this.queues
            .queue('lifecycle')
            .add('revoke-sessions', { tenantId, reason } satisfies RevokeSessionsJob, {
              jobId: `${tenantId}.revoke-sessions.${Date.now()}`,
              attempts: 20,
              backoff: { type: 'exponential', delay: 1_000 },
              removeOnComplete: { age: 24 * 3600 },
              removeOnFail: { age: 7 * 24 * 3600 },
            }),
          'queueing the session revocation',
        );
      } catch (queueError) {
        this.logger.error(
          `the sessions of suspended tenant ${tenantId} may outlive the suspension: ${(queueError as Error).message}`,
        );
      }
    }
  }
}
