import { Module } from '@nestjs/common';
import { IdempotencyModule } from '../idempotency/idempotency.module.js';
import { PolicyController } from './policy.controller.js';
import { RoleBindingController } from './role-binding.controller.js';
import { RoleTemplateController } from './role-template.controller.js';
import { RoleController } from './role.controller.js';
import { TenantPolicyController } from './tenant-policy.controller.js';

/** The gateway's routes to the policy service. */
@Module({
  imports: [IdempotencyModule],
  controllers: [
    RoleController,
    RoleTemplateController,
    RoleBindingController,
    PolicyController,
    TenantPolicyController,
  ],
})
export class PolicyApiModule {}
