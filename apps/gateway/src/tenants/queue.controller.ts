import { Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  ListQueueJobsRequestSchema,
  QueueJobRefSchema,
  QueueJobSchema,
  QueueOpsRpc,
  QueueSummarySchema,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import { z } from 'zod';
import { PLATFORM_ADMINISTRATION, Permission } from '../auth/access.decorators.js';
import { ApiContract } from '../http/api-docs.decorators.js';
import { ZodPipe } from '../http/zod.pipe.js';

const QueuePath = ListQueueJobsRequestSchema.pick({ queue: true });
const JobsQuery = ListQueueJobsRequestSchema.omit({ queue: true });

/**
 * Operators' view of the provisioning queues (BullMQ): counts per state, the jobs in a state,
 * and a retry of a failed job. The run state itself is in PostgreSQL
 * (GET /v1/tenants/{id}/provisioning).
 */
@ApiTags('operations')
@Controller('v1/operations/queues')
export class QueueController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Get()
  @Permission('queues:read', PLATFORM_ADMINISTRATION)
  @ApiOperation({ summary: 'The queues, with their jobs counted by state' })
  @ApiContract({ status: 200, response: z.object({ items: z.array(QueueSummarySchema) }) })
  summary() {
    return this.rpc.request(QueueOpsRpc.summary, {});
  }

  @Get(':queue/jobs')
  @Permission('queues:read', PLATFORM_ADMINISTRATION)
  @ApiOperation({ summary: 'The jobs of a queue in one state (newest first)' })
  @ApiContract({
    status: 200,
    path: QueuePath,
    query: JobsQuery,
    response: z.object({ items: z.array(QueueJobSchema) }),
    problems: [404],
  })
  jobs(
    @Param(new ZodPipe(QueuePath, 'path')) path: z.output<typeof QueuePath>,
    @Query(new ZodPipe(JobsQuery, 'query')) query: z.output<typeof JobsQuery>,
  ) {
    return this.rpc.request(QueueOpsRpc.jobs, { ...query, ...path });
  }

  @Post(':queue/jobs/:jobId/retry')
  @HttpCode(200)
  @Permission('queues:write', PLATFORM_ADMINISTRATION)
  @ApiOperation({ summary: 'Retry a failed job' })
  @ApiContract({
    status: 200,
    path: QueueJobRefSchema,
    response: QueueJobSchema,
    problems: [404, 409],
  })
  retry(@Param(new ZodPipe(QueueJobRefSchema, 'path')) path: z.output<typeof QueueJobRefSchema>) {
    return this.rpc.request(QueueOpsRpc.retry, path);
  }
}
