import { Module } from '@nestjs/common';
import { AuthSettingsModule } from '../auth-settings/auth-settings.module.js';
import { CredentialLookupModule } from '../credential-lookup/credential-lookup.module.js';
import { MailModule } from '../mail/mail.module.js';
import { MfaModule } from '../mfa/mfa.module.js';
import { PasswordModule } from '../passwords/password.module.js';
import { SessionModule } from '../sessions/session.module.js';
import { UserModule } from '../users/user.module.js';
import { AuthNatsController } from './auth.nats-controller.js';
import { LoginService } from './login.service.js';
import { MfaChallengeStore } from './mfa-challenge.store.js';
import { PasswordLinkService } from './password-link.service.js';
import { RefreshService } from './refresh.service.js';
import { RequestThrottle } from './request-throttle.js';
import { TenantGate } from './tenant-gate.js';

/** Sign-in (password, MFA), refresh, logout, invitations and password resets. */
@Module({
  imports: [
    AuthSettingsModule,
    CredentialLookupModule,
    MailModule,
    MfaModule,
    PasswordModule,
    SessionModule,
    UserModule,
  ],
  controllers: [AuthNatsController],
  providers: [
    LoginService,
    RefreshService,
    PasswordLinkService,
    RequestThrottle,
    MfaChallengeStore,
    TenantGate,
  ],
  exports: [LoginService, RequestThrottle, TenantGate],
})
export class AuthModule {}
