import { Module } from '@nestjs/common';
import { TenantLifecycleModule } from '../tenant-lifecycle/tenant-lifecycle.module.js';
import { RoleNatsController } from './role.nats-controller.js';
import { RoleService } from './role.service.js';

/** A tenant's roles (in its policy document: TenantPolicyModule stores and publishes it). */
@Module({
  imports: [TenantLifecycleModule],
  controllers: [RoleNatsController],
  providers: [RoleService],
})
export class RoleModule {}
