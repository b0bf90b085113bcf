import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { Queue } from 'bullmq';
import { Periodic } from '../queues/periodic.js';
import { TenantQueues } from '../queues/tenant-queues.js';
import { InjectTenantsSettings, type TenantsSettings } from '../tenants.settings.js';
import type { ProvisioningRunEntity } from './provisioning-run.entity.js';
import { queueOf, stepJobId } from './provisioning.flow.js';
import { ProvisioningRepository } from './provisioning.repository.js';
import { ProvisioningService } from './provisioning.service.js';
import { StepRunner } from './step-runner.js';

/** Job states in which a job will still run (or is running). */
const LIVE_STATES = new Set(['active', 'waiting', 'delayed', 'prioritized', 'waiting-children']);
/** A run or job younger than this may be in the middle of being enqueued or moved on: left alone. */
const SETTLE_MS = 2_000;
/** Runs looked at per pass (oldest first). */
const PASS_SIZE = 1_000;

/**
 * Makes sure no run is ever stuck: at start and every PROVISIONING_RECONCILE_SECONDS it
 * looks at every run not finished (PostgreSQL's view), and for each whose next step has no
 * live job in Redis (Redis restarted empty, the enqueue failed, the job failed for a reason
 * other than its step, e.g. the database was away) it enqueues the run again from its first
 * unfinished step, counting `requeues`. A run left `compensating` by a process that died is
 * compensated to the end. One replica at a time (an advisory lock).
 */
@Injectable()
export class ProvisioningReconciler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('ProvisioningReconciler');
  readonly periodic: Periodic;

  constructor(
    @Inject(ProvisioningRepository) private readonly runs: ProvisioningRepository,
    @Inject(ProvisioningService) private readonly provisioning: ProvisioningService,
    @Inject(StepRunner) private readonly runner: StepRunner,
    @Inject(TenantQueues) private readonly queues: TenantQueues,
    @InjectTenantsSettings() settings: TenantsSettings,
  ) {
    this.periodic = new Periodic(
      'reconciling the provisioning runs',
      settings.provisioning.reconcileIntervalMs,
      async () => {
        await this.reconcile();
      },
      this.logger,
    );
  }

  onApplicationBootstrap(): void {
    this.periodic.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.periodic.stop();
  }

  /** One pass; answers how many runs it enqueued again (undefined: another replica is at it). */
  async reconcile(): Promise<number | undefined> {
    return this.runs.exclusively('tenants.provisioning.reconciler', async () => {
      const open = await this.runs.openRuns(PASS_SIZE);
      let requeued = 0;
      const failures: string[] = [];
      for (const run of open) {
        try {
          if (await this.reconcileRun(run)) requeued++;
        } catch (error) {
          failures.push(`run ${run.id}: ${(error as Error).message}`);
          // Redis away: the other runs would only wait for it too.
          if ((error as { reason?: string }).reason === 'QUEUE_UNAVAILABLE') break;
        }
      }
      if (requeued) this.logger.log(`enqueued ${requeued} run(s) again that had no live job`);
      if (failures.length) {
        throw new Error(
          `${failures.length} run(s) not reconciled: ${failures.slice(0, 3).join('; ')}`,
        );
      }
      return requeued;
    });
  }

  /** True when it enqueued the run again. */
  private async reconcileRun(run: ProvisioningRunEntity): Promise<boolean> {
    const queue = this.queues.queue(queueOf(run.kind));
    if (run.status === 'compensating') {
      const state = run.failedStep
        ? await this.state(queue, stepJobId(run.id, run.failedStep))
        : 'unknown';
      // A worker still holds (or will get) the failed step's job: it finishes the compensation.
      if (state !== 'failed' && state !== 'completed' && state !== 'unknown') return false;
      this.logger.warn(`run ${run.id} was left compensating; compensating it to the end`);
      await this.runner.compensate(run);
      return false;
    }
    const steps = await this.runs.findSteps(run.id);
    const firstIndex = steps.findIndex((s) => s.status !== 'succeeded');
    const first = steps[firstIndex];
    if (!first) return false;
    const jobId = stepJobId(run.id, first.name);
    const state = await this.state(queue, jobId);
    if (LIVE_STATES.has(state)) return false;
    if (state === 'unknown') {
      if (Date.now() - run.createdAt.getTime() < SETTLE_MS) return false;
    } else {
      // Completed or failed while PostgreSQL says the step is not done: a job that gave up
      // for another reason than its step. Unless it only just ended (a worker moving on).
      const job = await this.queues.within(queue.getJob(jobId), `reading job ${jobId}`);
      if (job?.finishedOn && Date.now() - job.finishedOn < SETTLE_MS) return false;
      const again = (await this.runs.findSteps(run.id)).find((s) => s.status !== 'succeeded');
      if (again?.name !== first.name) return false;
      await this.removeJobs(
        queue,
        steps.slice(firstIndex).map((s) => stepJobId(run.id, s.name)),
      );
    }
    const fresh = await this.runs.findRun(run.id);
    if (!fresh || !['pending', 'running'].includes(fresh.status)) return false;
    await this.provisioning.enqueue(fresh, steps);
    await this.runs.addRequeue(run.id);
    this.logger.warn(
      `run ${run.id} (${run.kind} of tenant ${run.tenantId}) had no live job for step ${first.name} (${state}); enqueued again`,
    );
    return true;
  }

  private state(queue: Queue, jobId: string): Promise<string> {
    return this.queues.within(queue.getJobState(jobId), `reading the state of job ${jobId}`);
  }

  /** Removes a stale chain (root first, with its children), then any job of it left. */
  private async removeJobs(queue: Queue, jobIds: string[]): Promise<void> {
    for (const jobId of [...jobIds].reverse()) {
      await this.queues
        .within(queue.remove(jobId, { removeChildren: true }), `removing job ${jobId}`)
        .catch(() => undefined);
    }
  }
}
