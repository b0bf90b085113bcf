import { Module } from '@nestjs/common';
import { PolicyNatsController } from './policy.nats-controller.js';
import { PolicyService } from './policy.service.js';

/** Policies: explicit deny rules (in each tenant's policy document). */
@Module({ controllers: [PolicyNatsController], providers: [PolicyService] })
export class PolicyModule {}
