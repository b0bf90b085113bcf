import { Module } from '@nestjs/common';
import { LedgerModule } from '../ledger/ledger.module.js';
import { TenantLifecycleNatsController } from './tenant-lifecycle.nats-controller.js';
import { TenantLifecycleRepository } from './tenant-lifecycle.repository.js';
import { TenantLifecycleService } from './tenant-lifecycle.service.js';

/** The audit service's part in a tenant's life: genesis, retention, purge. */
@Module({
  imports: [LedgerModule],
  controllers: [TenantLifecycleNatsController],
  providers: [TenantLifecycleRepository, TenantLifecycleService],
})
export class TenantLifecycleModule {}
