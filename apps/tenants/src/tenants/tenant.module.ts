import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OutboxModule } from '@tenantry/persistence';
import { TenantEntity } from './tenant.entity.js';
import { TenantNatsController } from './tenant.nats-controller.js';
import { TenantRepository } from './tenant.repository.js';
import { TenantService } from './tenant.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([TenantEntity]), OutboxModule],
  controllers: [TenantNatsController],
  providers: [TenantRepository, TenantService],
})
export class TenantModule {}
