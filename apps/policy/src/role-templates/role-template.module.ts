import { Module } from '@nestjs/common';
import { RoleTemplateNatsController } from './role-template.nats-controller.js';
import { RoleTemplateService } from './role-template.service.js';

/** Role templates (the system ones, and each tenant's own in its policy document). */
@Module({ controllers: [RoleTemplateNatsController], providers: [RoleTemplateService] })
export class RoleTemplateModule {}
