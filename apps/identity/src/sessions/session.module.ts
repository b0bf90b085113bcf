import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CredentialLookupModule } from '../credential-lookup/credential-lookup.module.js';
import { SigningKeyModule } from '../signing-keys/signing-key.module.js';
import { RefreshTokenEntity } from './refresh-token.entity.js';
import { RefreshTokenRepository } from './refresh-token.repository.js';
import { SessionEntity } from './session.entity.js';
import { SessionNatsController } from './session.nats-controller.js';
import { SessionRepository } from './session.repository.js';
import { SessionService } from './session.service.js';

/** Sessions, refresh-token families with rotation and reuse detection, revocation events. */
@Module({
  imports: [
    TypeOrmModule.forFeature([SessionEntity, RefreshTokenEntity]),
    CredentialLookupModule,
    SigningKeyModule,
  ],
  controllers: [SessionNatsController],
  providers: [SessionRepository, RefreshTokenRepository, SessionService],
  exports: [SessionService],
})
export class SessionModule {}
