import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OutboxModule } from '@tenantry/persistence';
import { AccessModule } from '../access/access.module.js';
import { PlanModule } from '../plans/plan.module.js';
import { TenantDataRemovers } from './tenant-data.js';
import { TenantMaintenance } from './tenant-maintenance.js';
import { TenantParticipants } from './tenant-participants.js';
import { tenantRegistrySettingsProvider } from './tenant-registry.settings.js';
import { TenantEntity } from './tenant.entity.js';
import { TenantNatsController } from './tenant.nats-controller.js';
import { TenantRepository } from './tenant.repository.js';
import { TenantService } from './tenant.service.js';

/**
 * The tenant registry. Exports TenantService (what provisioning and the other features of
 * the service build on), TenantDataRemovers (where features holding tenant data register
 * their removal) and TenantMaintenance.
 */
@Module({
  imports: [TypeOrmModule.forFeature([TenantEntity]), OutboxModule, PlanModule, AccessModule],
  controllers: [TenantNatsController],
  providers: [
    tenantRegistrySettingsProvider,
    TenantRepository,
    TenantParticipants,
    TenantDataRemovers,
    TenantService,
    TenantMaintenance,
  ],
  exports: [TenantService, TenantDataRemovers, TenantMaintenance],
})
export class TenantModule {}
