import { Module } from '@nestjs/common';
import { IdempotencyModule } from '../idempotency/idempotency.module.js';
import { BulkOperationController } from './bulk-operation.controller.js';
import { OrganizationController } from './organization.controller.js';
import { PlanController } from './plan.controller.js';
import { ProvisioningController } from './provisioning.controller.js';
import { QueueController } from './queue.controller.js';
import { TemplateController } from './template.controller.js';
import { TenantController } from './tenant.controller.js';

/** The gateway's routes to the tenants service. */
@Module({
  imports: [IdempotencyModule],
  controllers: [
    TenantController,
    ProvisioningController,
    PlanController,
    TemplateController,
    OrganizationController,
    BulkOperationController,
    QueueController,
  ],
})
export class TenantsApiModule {}
