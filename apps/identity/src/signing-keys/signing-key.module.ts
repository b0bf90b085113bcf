import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SigningKeyEntity } from './signing-key.entity.js';
import { SigningKeyNatsController } from './signing-key.nats-controller.js';
import { SigningKeyRepository } from './signing-key.repository.js';
import { SigningKeyService } from './signing-key.service.js';

/** The access-token signing keys, their rotation and the JWKS. */
@Module({
  imports: [TypeOrmModule.forFeature([SigningKeyEntity])],
  controllers: [SigningKeyNatsController],
  providers: [SigningKeyRepository, SigningKeyService],
  exports: [SigningKeyService],
})
export class SigningKeyModule {}
