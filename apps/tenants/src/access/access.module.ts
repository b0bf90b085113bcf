import { Module } from '@nestjs/common';
import { TenantAccessPublisher } from './tenant-access.publisher.js';

/** The TENANT_ACCESS bucket the gateway follows; the tenant registry writes it. */
@Module({
  providers: [TenantAccessPublisher],
  exports: [TenantAccessPublisher],
})
export class AccessModule {}
