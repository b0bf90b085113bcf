import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthSettingsModule } from '../auth-settings/auth-settings.module.js';
import { CredentialLookupModule } from '../credential-lookup/credential-lookup.module.js';
import { PasswordModule } from '../passwords/password.module.js';
import { UserModule } from '../users/user.module.js';
import { RecoveryCodeEntity, TotpEntity } from './mfa.entity.js';
import { MfaNatsController } from './mfa.nats-controller.js';
import { MfaRepository } from './mfa.repository.js';
import { MfaService } from './mfa.service.js';
import { PasskeyChallenges } from './passkey-challenges.js';
import { PasskeyRepository } from './passkey.repository.js';
import { PasskeyService } from './passkey.service.js';

/** Second factors: TOTP, passkeys (WebAuthn) and recovery codes. */
@Module({
  imports: [
    TypeOrmModule.forFeature([TotpEntity, RecoveryCodeEntity]),
    AuthSettingsModule,
    CredentialLookupModule,
    PasswordModule,
    UserModule,
  ],
  controllers: [MfaNatsController],
  providers: [MfaRepository, MfaService, PasskeyRepository, PasskeyChallenges, PasskeyService],
  exports: [MfaService, PasskeyService],
})
export class MfaModule {}
