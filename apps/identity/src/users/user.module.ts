import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthSettingsModule } from '../auth-settings/auth-settings.module.js';
import { CredentialLookupModule } from '../credential-lookup/credential-lookup.module.js';
import { MailModule } from '../mail/mail.module.js';
import { PasswordModule } from '../passwords/password.module.js';
import { SessionModule } from '../sessions/session.module.js';
import { TenantProfileModule } from '../tenant-lifecycle/tenant-profile.module.js';
import { UserTokenEntity } from './user-token.entity.js';
import { UserTokenRepository } from './user-token.repository.js';
import { UserTokenService } from './user-token.service.js';
import { UserEntity } from './user.entity.js';
import { UserNatsController } from './user.nats-controller.js';
import { UserRepository } from './user.repository.js';
import { UserService } from './user.service.js';

/** Users per tenant and platform operators, their invitation and reset tokens. */
@Module({
  imports: [
    TypeOrmModule.forFeature([UserEntity, UserTokenEntity]),
    AuthSettingsModule,
    CredentialLookupModule,
    MailModule,
    PasswordModule,
    SessionModule,
    TenantProfileModule,
  ],
  controllers: [UserNatsController],
  providers: [UserRepository, UserTokenRepository, UserTokenService, UserService],
  exports: [UserRepository, UserTokenService, UserService],
})
export class UserModule {}
