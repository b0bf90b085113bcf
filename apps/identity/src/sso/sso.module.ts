import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { AuthSettingsModule } from '../auth-settings/auth-settings.module.js';
import { CredentialLookupModule } from '../credential-lookup/credential-lookup.module.js';
import { DomainModule } from '../domains/domain.module.js';
import { OidcModule } from '../oidc/oidc.module.js';
import { SamlModule } from '../saml/saml.module.js';
import { SsoConnectionModule } from '../sso-connections/sso-connection.module.js';
import { TenantProfileModule } from '../tenant-lifecycle/tenant-profile.module.js';
import { UserModule } from '../users/user.module.js';
import { SsoCodeStore } from './sso-code.store.js';
import { SsoNatsController } from './sso.nats-controller.js';
import { SsoService } from './sso.service.js';

/** Single sign-on: discovery, SP-initiated start, SAML ACS, OIDC callback, code exchange. */
@Module({
  imports: [
    AuthModule,
    AuthSettingsModule,
    CredentialLookupModule,
    DomainModule,
    OidcModule,
    SamlModule,
    SsoConnectionModule,
    TenantProfileModule,
    UserModule,
  ],
  controllers: [SsoNatsController],
  providers: [SsoService, SsoCodeStore],
})
export class SsoModule {}
