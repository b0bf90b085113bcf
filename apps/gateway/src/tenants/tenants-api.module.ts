import { Module } from '@nestjs/common';
import { IdempotencyModule } from '../idempotency/idempotency.module.js';
import { TenantController } from './tenant.controller.js';

/** The gateway's routes to the tenants service. */
@Module({ imports: [IdempotencyModule], controllers: [TenantController] })
export class TenantsApiModule {}
