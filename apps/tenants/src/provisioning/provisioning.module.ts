import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OutboxModule } from '@tenantry/persistence';
import { QueueModule } from '../queues/queue.module.js';
import { TemplateModule } from '../templates/template.module.js';
import { TenantModule } from '../tenants/tenant.module.js';
import { ParticipantClient } from './participant.client.js';
import { ProvisioningRunEntity, ProvisioningStepEntity } from './provisioning-run.entity.js';
import { ProvisioningNatsController } from './provisioning.nats-controller.js';
import { ProvisioningReconciler } from './provisioning.reconciler.js';
import { ProvisioningRepository } from './provisioning.repository.js';
import { ProvisioningService } from './provisioning.service.js';
import { ProvisioningWorkers } from './provisioning.worker.js';
import { ProvisionSteps } from './provision-steps.js';
import { StepRegistry } from './step-registry.js';
import { StepRunner } from './step-runner.js';

/**
 * The provisioning pipeline: runs and steps in PostgreSQL, their jobs in BullMQ, the
 * StepRegistry (other modules register their steps in it), the workers, the reconciler, and
 * the requests that start runs (TenantRpc.create, TemplateRpc.instantiate) or read them (ProvisioningRpc).
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([ProvisioningRunEntity, ProvisioningStepEntity]),
    OutboxModule,
    QueueModule,
    TenantModule,
    TemplateModule,
  ],
  controllers: [ProvisioningNatsController],
  providers: [
    StepRegistry,
    ParticipantClient,
    ProvisioningRepository,
    ProvisionSteps,
    StepRunner,
    ProvisioningService,
    ProvisioningWorkers,
    ProvisioningReconciler,
  ],
  exports: [
    StepRegistry,
    ParticipantClient,
    ProvisioningRepository,
    ProvisioningService,
    StepRunner,
    ProvisioningReconciler,
  ],
})
export class ProvisioningModule {}
