import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OutboxModule } from '@tenantry/persistence';
import { CredentialLookupModule } from '../credential-lookup/credential-lookup.module.js';
import { ApiKeyEntity } from './api-key.entity.js';
import { ApiKeyNatsController } from './api-key.nats-controller.js';
import { ApiKeyRepository } from './api-key.repository.js';
import { ApiKeyService } from './api-key.service.js';

/** API keys of a tenant or of the platform: create, rotate, revoke, and the gateway's verify. */
@Module({
  imports: [TypeOrmModule.forFeature([ApiKeyEntity]), OutboxModule, CredentialLookupModule],
  controllers: [ApiKeyNatsController],
  providers: [ApiKeyRepository, ApiKeyService],
})
export class ApiKeyModule {}
