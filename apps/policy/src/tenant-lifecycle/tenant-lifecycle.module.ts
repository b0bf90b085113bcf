import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PolicyQuotas } from './policy-quotas.js';
import { TenantLifecycleNatsController } from './tenant-lifecycle.nats-controller.js';
import { TenantLifecycleService } from './tenant-lifecycle.service.js';
import { TenantProfileEntity } from './tenant-profile.entity.js';
import { TenantProfileRepository } from './tenant-profile.repository.js';

/**
 * The policy service's part in a tenant's life (provisioning, plan changes, deletion) and the
 * tenant's profile; exports PolicyQuotas for the features that enforce the plan's limits.
 */
@Module({
  imports: [TypeOrmModule.forFeature([TenantProfileEntity])],
  controllers: [TenantLifecycleNatsController],
  providers: [TenantProfileRepository, TenantLifecycleService, PolicyQuotas],
  exports: [PolicyQuotas],
})
export class TenantLifecycleModule {}
