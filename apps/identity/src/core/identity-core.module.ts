import { Global, Module } from '@nestjs/common';
import { OutboxModule } from '@tenantry/persistence';
import { identitySettingsProvider, IDENTITY_SETTINGS } from '../identity.settings.js';

/** What every identity feature may inject: its settings, and the outbox for audit and domain events. */
@Global()
@Module({
  imports: [OutboxModule],
  providers: [identitySettingsProvider],
  exports: [IDENTITY_SETTINGS, OutboxModule],
})
export class IdentityCoreModule {}
