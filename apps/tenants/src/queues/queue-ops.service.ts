import { Inject, Injectable } from '@nestjs/common';
import { JOB_STATES, type RpcPayload, type QueueOpsRpc } from '@tenantry/contracts';
import type { Job, Queue } from 'bullmq';
import type { z } from 'zod';
import type { QueueJobSchema, QueueSummarySchema } from '@tenantry/contracts';
import { QueueOpsErrors } from './queue-ops.errors.js';
import { TENANT_QUEUES, TenantQueues, type TenantQueueName } from './tenant-queues.js';

type QueueSummary = z.infer<typeof QueueSummarySchema>;
type QueueJob = z.infer<typeof QueueJobSchema>;

/**
 * The operators' view of the service's BullMQ queues (what `@bull-board` shows): counts per
 * state, the jobs in a state, and retrying a failed job. Every call answers
 * SERVICE_UNAVAILABLE when Redis does not answer in time.
 */
@Injectable()
export class QueueOpsService {
  constructor(@Inject(TenantQueues) private readonly queues: TenantQueues) {}

  async summary(): Promise<{ items: QueueSummary[] }> {
    const items = await Promise.all(
      TENANT_QUEUES.map(async (name) => {
        const queue = this.queues.queue(name);
        const [counts, paused] = await this.queues.within(
          Promise.all([queue.getJobCounts(...JOB_STATES), queue.isPaused()]),
          `reading queue ${name}`,
        );
        return { name, counts, paused };
      }),
    );
    return { items };
  }

  async jobs(request: RpcPayload<typeof QueueOpsRpc.jobs>): Promise<{ items: QueueJob[] }> {
    const queue = this.queue(request.queue);
    const jobs = await this.queues.within(
      queue.getJobs([request.state], 0, request.limit - 1),
      `listing the ${request.state} jobs of ${request.queue}`,
    );
    return {
      items: jobs.filter(Boolean).map((job) => toContract(job as Job, request.state)),
    };
  }

  async retry(request: RpcPayload<typeof QueueOpsRpc.retry>): Promise<QueueJob> {
    const queue = this.queue(request.queue);
    const what = `retrying job ${request.jobId} of ${request.queue}`;
    const job = (await this.queues.within(queue.getJob(request.jobId), what)) as Job | undefined;
    if (!job) throw QueueOpsErrors.jobNotFound(request.queue, request.jobId);
    const state = await this.queues.within(job.getState(), what);
    if (state !== 'failed') throw QueueOpsErrors.jobNotFailed(request.queue, request.jobId, state);
    await this.queues.within(job.retry('failed'), what);
    const after = await this.queues.within(job.getState(), what);
    return toContract(job, after);
  }

  private queue(name: string): Queue {
    if (!(TENANT_QUEUES as readonly string[]).includes(name))
      throw QueueOpsErrors.queueNotFound(name);
    return this.queues.queue(name as TenantQueueName);
  }
}

function toContract(job: Job, state: string): QueueJob {
  return {
    id: job.id ?? '',
    name: job.name,
    state,
    attemptsMade: job.attemptsMade,
    data: job.data as unknown,
    failedReason: job.failedReason || null,
    timestamp: new Date(job.timestamp).toISOString(),
    processedOn: job.processedOn ? new Date(job.processedOn).toISOString() : null,
    finishedOn: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
  };
}
