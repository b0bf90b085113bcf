import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditEventConsumer } from './audit-event.consumer.js';
import { AuditEventEntity } from './audit-event.entity.js';
import { AuditEventNatsController } from './audit-event.nats-controller.js';
import { AuditEventRepository } from './audit-event.repository.js';
import { AuditEventService } from './audit-event.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([AuditEventEntity])],
  controllers: [AuditEventNatsController],
  providers: [AuditEventRepository, AuditEventService, AuditEventConsumer],
})
export class AuditEventModule {}
