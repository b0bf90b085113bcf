import { backendService } from '@tenantry/persistence';
import { ApiKeyModule } from './api-keys/api-key.module.js';
import { AuthModule } from './auth/auth.module.js';
import { AuthSettingsModule } from './auth-settings/auth-settings.module.js';
import { IdentityCoreModule } from './core/identity-core.module.js';
import { CredentialLookupModule } from './credential-lookup/credential-lookup.module.js';
import { migrations } from './database/migrations/index.js';
import { DomainModule } from './domains/domain.module.js';
import { IdentitySettingsSchema } from './identity.settings.js';
import { MailModule } from './mail/mail.module.js';
import { MfaModule } from './mfa/mfa.module.js';
import { OperatorModule } from './operators/operator.module.js';
import { PasswordModule } from './passwords/password.module.js';
import { SessionModule } from './sessions/session.module.js';
import { SigningKeyModule } from './signing-keys/signing-key.module.js';
import { SsoConnectionModule } from './sso-connections/sso-connection.module.js';
import { ScimModule } from './scim/scim.module.js';
import { SsoModule } from './sso/sso.module.js';
import { SsoSetupModule } from './sso-setup/sso-setup.module.js';
import { TenantLifecycleModule } from './tenant-lifecycle/tenant-lifecycle.module.js';
import { UserModule } from './users/user.module.js';

/**
 * The identity service: users, credentials, sessions and tokens, API keys, MFA, single
 * sign-on (SAML, OIDC) with verified domains, SCIM directory sync, and its part of each
 * tenant's provisioning and lifecycle (profile and quotas, first admin, suspension, removal).
 */
export const service = backendService({
  name: 'identity',
  streams: ['AUDIT', 'EVENTS'],
  migrations,
  redis: true,
  settings: IdentitySettingsSchema,
  features: [
    IdentityCoreModule,
    CredentialLookupModule,
    PasswordModule,
    MailModule,
    AuthSettingsModule,
    DomainModule,
    UserModule,
    OperatorModule,
    ApiKeyModule,
    SigningKeyModule,
    SessionModule,
    MfaModule,
    SsoConnectionModule,
    ScimModule,
    SsoSetupModule,
    AuthModule,
    SsoModule,
    TenantLifecycleModule,
  ],
});
