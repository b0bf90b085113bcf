import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ProvisioningModule } from '../provisioning/provisioning.module.js';
import { QueueModule } from '../queues/queue.module.js';
import { TenantModule } from '../tenants/tenant.module.js';
import { BulkOperationEntity, BulkOperationItemEntity } from './bulk-operation.entity.js';
import { BulkOperationNatsController } from './bulk-operation.nats-controller.js';
import { BulkOperationRepository } from './bulk-operation.repository.js';
import { BulkOperationService } from './bulk-operation.service.js';
import { BulkOperationWorker } from './bulk-operation.worker.js';

/** Bulk creation of tenants or users, as tracked operations (BulkOperationRpc). */
@Module({
  imports: [
    TypeOrmModule.forFeature([BulkOperationEntity, BulkOperationItemEntity]),
    QueueModule,
    TenantModule,
    ProvisioningModule,
  ],
  controllers: [BulkOperationNatsController],
  providers: [BulkOperationRepository, BulkOperationService, BulkOperationWorker],
})
export class BulkOperationModule {}
