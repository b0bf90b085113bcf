import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditEventEntity } from './audit-event.entity.js';
import { AuditEventNatsController } from './audit-event.nats-controller.js';
import { AuditEventRepository } from './audit-event.repository.js';
import { AuditEventService } from './audit-event.service.js';
import { AuditEventsConsumer } from './audit-events.consumer.js';

@Module({
  imports: [TypeOrmModule.forFeature([AuditEventEntity])],
  controllers: [AuditEventNatsController],
  providers: [AuditEventRepository, AuditEventService, AuditEventsConsumer],
})
export class AuditEventModule {}
