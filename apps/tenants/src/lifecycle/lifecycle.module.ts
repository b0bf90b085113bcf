import { Module } from '@nestjs/common';
import { OutboxModule } from '@tenantry/persistence';
import { ProvisioningModule } from '../provisioning/provisioning.module.js';
import { QueueModule } from '../queues/queue.module.js';
import { TenantModule } from '../tenants/tenant.module.js';
import { DeprovisionSteps } from './deprovision-steps.js';
import { LifecycleNatsController } from './lifecycle.nats-controller.js';
import { LifecycleService } from './lifecycle.service.js';
import { TenantExporter } from './tenant-export.js';

/** Suspension, reactivation and deletion (its deprovision pipeline's steps, the export). */
@Module({
  imports: [OutboxModule, QueueModule, TenantModule, ProvisioningModule],
  controllers: [LifecycleNatsController],
  providers: [TenantExporter, DeprovisionSteps, LifecycleService],
})
export class LifecycleModule {}
