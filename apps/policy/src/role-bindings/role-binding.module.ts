import { Module } from '@nestjs/common';
import { RoleBindingNatsController } from './role-binding.nats-controller.js';
import { RoleBindingService } from './role-binding.service.js';

/** Role bindings (in each tenant's policy document). */
@Module({ controllers: [RoleBindingNatsController], providers: [RoleBindingService] })
export class RoleBindingModule {}
