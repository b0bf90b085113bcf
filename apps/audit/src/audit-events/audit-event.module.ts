import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditEventConsumer } from './audit-event.consumer.js';
import { AuditEventEntity } from './audit-event.entity.js';
import { AuditEventNatsController } from './audit-event.nats-controller.js';
import { AuditEventService } from './audit-event.service.js';
import { LedgerModule } from '../ledger/ledger.module.js';
import { AuditExportNatsController } from './audit-export.nats-controller.js';
import { AuditExportProofs } from './audit-export.proofs.js';
import { AuditExportRepository } from './audit-export.repository.js';
import { AuditExportService } from './audit-export.service.js';
import { AuditSearchNatsController } from './audit-search.nats-controller.js';
import { AuditReadAuditor } from './audit-search.read-auditor.js';
import { AuditSearchRepository } from './audit-search.repository.js';
import { AuditSearchService } from './audit-search.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([AuditEventEntity]), LedgerModule],
  controllers: [
    AuditEventNatsController,
    // Reading the ledger: search and export.
    AuditSearchNatsController,
    AuditExportNatsController,
  ],
  providers: [
    AuditEventService,
    AuditEventConsumer,
    // Reading the ledger: search and export, each read audited.
    AuditReadAuditor,
    AuditSearchRepository,
    AuditSearchService,
    AuditExportRepository,
    AuditExportProofs,
    AuditExportService,
  ],
})
export class AuditEventModule {}
