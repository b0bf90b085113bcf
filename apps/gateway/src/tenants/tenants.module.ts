import { Module } from '@nestjs/common';
import { IdempotencyModule } from '../idempotency/idempotency.module.js';
import { TenantsController } from './tenants.controller.js';

@Module({ imports: [IdempotencyModule], controllers: [TenantsController] })
export class TenantsModule {}
