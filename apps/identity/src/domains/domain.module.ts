import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OutboxModule } from '@tenantry/persistence';
import { DnsResolver } from './dns-resolver.js';
import { DomainEntity } from './domain.entity.js';
import { DomainNatsController } from './domain.nats-controller.js';
import { DomainRepository } from './domain.repository.js';
import { DomainService } from './domain.service.js';

/** Email domains a tenant claims and verifies with a DNS TXT record; exports DomainService. */
@Module({
  imports: [TypeOrmModule.forFeature([DomainEntity]), OutboxModule],
  controllers: [DomainNatsController],
  providers: [DnsResolver, DomainRepository, DomainService],
  exports: [DomainService],
})
export class DomainModule {}
