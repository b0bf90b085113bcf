import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OutboxModule } from '@tenantry/persistence';
import { PlanEntity } from './plan.entity.js';
import { PlanNatsController } from './plan.nats-controller.js';
import { PlanRepository } from './plan.repository.js';
import { PlanService } from './plan.service.js';

/** The plans (quotas, features, roles) as data; exports PlanService for the tenant registry. */
@Module({
  imports: [TypeOrmModule.forFeature([PlanEntity]), OutboxModule],
  controllers: [PlanNatsController],
  providers: [PlanRepository, PlanService],
  exports: [PlanService],
})
export class PlanModule {}
