import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OutboxModule } from '@tenantry/persistence';
import { TenantModule } from '../tenants/tenant.module.js';
import { OrganizationEntity } from './organization.entity.js';
import { OrganizationNatsController } from './organization.nats-controller.js';
import { OrganizationRepository } from './organization.repository.js';
import { OrganizationService } from './organization.service.js';

/** Organizations inside tenants (a tree per tenant, row-level security). */
@Module({
  imports: [TypeOrmModule.forFeature([OrganizationEntity]), OutboxModule, TenantModule],
  controllers: [OrganizationNatsController],
  providers: [OrganizationRepository, OrganizationService],
  exports: [OrganizationService],
})
export class OrganizationModule {}
