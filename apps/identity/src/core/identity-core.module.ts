import { Global, Module } from '@nestjs/common';
import { OutboxModule } from '@tenantry/persistence';
import { identitySettingsProvider, IDENTITY_SETTINGS } from '../identity.settings.js';
import { AuditWriter } from './audit-writer.js';
import { TenantDirectory } from './tenant-directory.js';
import { TenantEventsFollower } from './tenant-events.follower.js';

/**
 * What every identity feature may inject: its settings, the outbox for audit and domain
 * events (and the writer of those that stand alone), and the tenants service's directory
 * (kept fresh by following the tenants service's events).
 */
@Global()
@Module({
  imports: [OutboxModule],
  providers: [identitySettingsProvider, TenantDirectory, TenantEventsFollower, AuditWriter],
  exports: [IDENTITY_SETTINGS, OutboxModule, TenantDirectory, AuditWriter],
})
export class IdentityCoreModule {}
