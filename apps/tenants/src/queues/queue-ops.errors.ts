import { AppError, ErrorCode } from '@tenantry/contracts';
import { TENANT_QUEUES } from './tenant-queues.js';

/** Reasons an operator's queue request fails; clients may rely on them (`reason` in the problem). */
export enum QueueOpsErrorReason {
  QueueNotFound = 'QUEUE_NOT_FOUND',
  JobNotFound = 'QUEUE_JOB_NOT_FOUND',
  JobNotFailed = 'QUEUE_JOB_NOT_FAILED',
}

export const QueueOpsErrors = {
  queueNotFound: (queue: string) =>
    new AppError(
      ErrorCode.NotFound,
      `there is no queue "${queue}"; the queues are ${TENANT_QUEUES.join(', ')}`,
      { reason: QueueOpsErrorReason.QueueNotFound, field: 'queue' },
    ),

  jobNotFound: (queue: string, jobId: string) =>
    new AppError(ErrorCode.NotFound, `queue ${queue} has no job "${jobId}"`, {
      reason: QueueOpsErrorReason.JobNotFound,
      field: 'jobId',
    }),

  jobNotFailed: (queue: string, jobId: string, state: string) =>
    new AppError(
      ErrorCode.Conflict,
      `job ${jobId} of queue ${queue} is ${state}; only a failed job can be retried`,
      { reason: QueueOpsErrorReason.JobNotFailed },
    ),
};
