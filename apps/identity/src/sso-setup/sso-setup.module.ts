import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CredentialLookupModule } from '../credential-lookup/credential-lookup.module.js';
import { ScimModule } from '../scim/scim.module.js';
import { SsoConnectionModule } from '../sso-connections/sso-connection.module.js';
import { SsoSetupLinkEntity } from './sso-setup-link.entity.js';
import { SsoSetupLinkRepository } from './sso-setup-link.repository.js';
import { SsoSetupSessionStore } from './sso-setup-session.store.js';
import { SsoSetupLinkNatsController, SsoSetupNatsController } from './sso-setup.nats-controller.js';
import { SsoSetupService } from './sso-setup.service.js';

/**
 * Self-service SSO setup: one-time setup links a tenant's admin hands to their IT
 * department, and the setup sessions they open, limited to the tenant's SSO connections
 * and SCIM directories.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([SsoSetupLinkEntity]),
    CredentialLookupModule,
    SsoConnectionModule,
    ScimModule,
  ],
  controllers: [SsoSetupLinkNatsController, SsoSetupNatsController],
  providers: [SsoSetupLinkRepository, SsoSetupSessionStore, SsoSetupService],
})
export class SsoSetupModule {}
