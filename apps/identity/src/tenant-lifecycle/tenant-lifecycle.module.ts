import { Module } from '@nestjs/common';
import { AuthSettingsModule } from '../auth-settings/auth-settings.module.js';
import { SessionModule } from '../sessions/session.module.js';
import { UserModule } from '../users/user.module.js';
import { TenantLifecycleNatsController } from './tenant-lifecycle.nats-controller.js';
import { TenantLifecycleRepository } from './tenant-lifecycle.repository.js';
import { TenantLifecycleService } from './tenant-lifecycle.service.js';
import { TenantProfileModule } from './tenant-profile.module.js';

/**
 * Identity as a participant in tenant provisioning and lifecycle (TenantLifecycleRpc.identity):
 * bootstrap (profile, auth settings, first admin), compensate, configure, verify, usage,
 * suspend, export and remove.
 */
@Module({
  imports: [AuthSettingsModule, SessionModule, TenantProfileModule, UserModule],
  controllers: [TenantLifecycleNatsController],
  providers: [TenantLifecycleRepository, TenantLifecycleService],
})
export class TenantLifecycleModule {}
