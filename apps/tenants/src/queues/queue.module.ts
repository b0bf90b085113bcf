import { Module } from '@nestjs/common';
import { QueueOpsNatsController } from './queue-ops.nats-controller.js';
import { QueueOpsService } from './queue-ops.service.js';
import { TenantQueues } from './tenant-queues.js';

/** The service's BullMQ queues (TenantQueues), and the operators' view of them (QueueOpsRpc). */
@Module({
  controllers: [QueueOpsNatsController],
  providers: [TenantQueues, QueueOpsService],
  exports: [TenantQueues],
})
export class QueueModule {}
