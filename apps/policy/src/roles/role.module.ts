import { Module } from '@nestjs/common';
import { RoleNatsController } from './role.nats-controller.js';
import { RoleService } from './role.service.js';

/** A tenant's roles (in its policy document: TenantPolicyModule stores and publishes it). */
@Module({ controllers: [RoleNatsController], providers: [RoleService] })
export class RoleModule {}
