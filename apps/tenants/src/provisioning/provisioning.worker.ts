import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { TenantQueues } from '../queues/tenant-queues.js';
import { InjectTenantsSettings, type TenantsSettings } from '../tenants.settings.js';
import type { StepJobData } from './provisioning.flow.js';
import { StepRunner } from './step-runner.js';

/**
 * The BullMQ workers of the `provisioning` and `deprovisioning` queues: each job is one step
 * of one run, worked by the StepRunner. A worker that dies mid-step loses its lock after
 * PROVISIONING_LOCK_MS; another (or the restarted process) finds the job stalled and runs
 * the step again, which is why every step is idempotent.
 */
@Injectable()
export class ProvisioningWorkers implements OnApplicationBootstrap {
  constructor(
    @Inject(TenantQueues) private readonly queues: TenantQueues,
    @Inject(StepRunner) private readonly runner: StepRunner,
    @InjectTenantsSettings() private readonly settings: TenantsSettings,
  ) {}

  onApplicationBootstrap(): void {
    const { concurrency, lockMs, stalledIntervalMs } = this.settings.provisioning;
    for (const name of ['provisioning', 'deprovisioning'] as const) {
      this.queues.worker<StepJobData, unknown>(name, (job) => this.runner.process(job), {
        concurrency,
        lockDuration: lockMs,
        stalledInterval: stalledIntervalMs,
        // A step may be interrupted by several crashes in a row before it counts as failed.
        maxStalledCount: 5,
      });
    }
  }
}
