import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { ProvisioningRepository } from '../provisioning/provisioning.repository.js';
import { Periodic } from '../queues/periodic.js';
import { TenantQueues } from '../queues/tenant-queues.js';
import { InjectTenantsSettings, type TenantsSettings } from '../tenants.settings.js';
import { BulkOperationRepository } from './bulk-operation.repository.js';
import { BulkOperationService, type BulkOperationJob } from './bulk-operation.service.js';

const LIVE_STATES = new Set(['active', 'waiting', 'delayed', 'prioritized']);
const SETTLE_MS = 2_000;

/**
 * The `bulk-operations` queue's worker, and its reconciler: an operation still pending or
 * running whose job is gone (Redis restarted empty, the enqueue failed) or gave up is
 * enqueued again, at start and every PROVISIONING_RECONCILE_SECONDS.
 */
@Injectable()
export class BulkOperationWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('BulkOperations');
  readonly periodic: Periodic;

  constructor(
    @Inject(BulkOperationService) private readonly service: BulkOperationService,
    @Inject(BulkOperationRepository) private readonly operations: BulkOperationRepository,
    @Inject(ProvisioningRepository) private readonly runs: ProvisioningRepository,
    @Inject(TenantQueues) private readonly queues: TenantQueues,
    @InjectTenantsSettings() private readonly settings: TenantsSettings,
  ) {
    this.periodic = new Periodic(
      'reconciling the bulk operations',
      settings.provisioning.reconcileIntervalMs,
      async () => {
        await this.reconcile();
      },
      this.logger,
    );
  }

  onApplicationBootstrap(): void {
    this.queues.worker<BulkOperationJob, void>(
      'bulk-operations',
      (job) => this.service.process(job.data.operationId),
      {
        concurrency: Math.max(1, Math.ceil(this.settings.provisioning.concurrency / 4)),
        lockDuration: this.settings.provisioning.lockMs,
        stalledInterval: this.settings.provisioning.stalledIntervalMs,
        maxStalledCount: 5,
      },
    );
    this.periodic.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.periodic.stop();
  }

  /** One pass: answers how many operations it enqueued again. */
  async reconcile(): Promise<number | undefined> {
    return this.runs.exclusively('tenants.bulk-operations.reconciler', async () => {
      const queue = this.queues.queue('bulk-operations');
      let requeued = 0;
      for (const operation of await this.operations.open(500)) {
        const state = await this.queues.within(
          queue.getJobState(operation.id),
          `reading the job of bulk operation ${operation.id}`,
        );
        if (LIVE_STATES.has(state)) continue;
        if (Date.now() - operation.createdAt.getTime() < SETTLE_MS) continue;
        if (state !== 'unknown') {
          const job = await this.queues.within(queue.getJob(operation.id), 'reading a job');
          if (job?.finishedOn && Date.now() - job.finishedOn < SETTLE_MS) continue;
          await this.queues.within(queue.remove(operation.id), 'removing a job').catch(() => 0);
        }
        await this.service.enqueue(operation.id);
        await this.operations.addRequeue(operation.id);
        requeued++;
      }
      if (requeued) this.logger.warn(`enqueued ${requeued} bulk operation(s) again`);
      return requeued;
    });
  }
}
