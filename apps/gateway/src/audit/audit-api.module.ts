import { Module } from '@nestjs/common';
import { AuditEventController, PlatformAuditEventController } from './audit-event.controller.js';
import { AuditExportController } from './audit-export.controller.js';
import { AuditKeyController, LedgerController } from './ledger.controller.js';
import { ReportController } from './report.controller.js';
import { SinkController } from './sink.controller.js';

/** The gateway's routes to the audit service. */
@Module({
  controllers: [
    AuditEventController,
    PlatformAuditEventController,
    AuditExportController,
    SinkController,
    ReportController,
    AuditKeyController,
    LedgerController,
  ],
})
export class AuditApiModule {}
