import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OutboxModule } from '@tenantry/persistence';
import { TenantModule } from '../tenants/tenant.module.js';
import { TemplateEntity } from './template.entity.js';
import { TemplateNatsController } from './template.nats-controller.js';
import { TemplateRepository } from './template.repository.js';
import { TemplateService } from './template.service.js';

/** Tenant templates; exports TemplateService (`render`, for instantiation). */
@Module({
  imports: [TypeOrmModule.forFeature([TemplateEntity]), OutboxModule, TenantModule],
  controllers: [TemplateNatsController],
  providers: [TemplateRepository, TemplateService],
  exports: [TemplateService],
})
export class TemplateModule {}
