import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CredentialLookupModule } from '../credential-lookup/credential-lookup.module.js';
import { TenantProfileModule } from '../tenant-lifecycle/tenant-profile.module.js';
import { SsoConnectionEntity } from './sso-connection.entity.js';
import { SsoConnectionNatsController } from './sso-connection.nats-controller.js';
import { SsoConnectionRepository } from './sso-connection.repository.js';
import { SsoConnectionService } from './sso-connection.service.js';

/**
 * A tenant's SSO connections (SAML 2.0, OIDC): their management, the SP metadata, and
 * (exported) SsoConnectionService.forSignIn / listEnabled for the sign-in flows.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([SsoConnectionEntity]),
    CredentialLookupModule,
    TenantProfileModule,
  ],
  controllers: [SsoConnectionNatsController],
  providers: [SsoConnectionRepository, SsoConnectionService],
  exports: [SsoConnectionService],
})
export class SsoConnectionModule {}
