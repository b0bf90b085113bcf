import { Module } from '@nestjs/common';
import { ReportAuditor } from './report.auditor.js';
import { ReportNatsController } from './report.nats-controller.js';
import { ReportRepository } from './report.repository.js';
import { ReportService } from './report.service.js';
import { ReportSources } from './report-sources.js';

/** Compliance reports over the ledger (`audit.reports.*`). */
@Module({
  controllers: [ReportNatsController],
  providers: [ReportRepository, ReportSources, ReportAuditor, ReportService],
})
export class ReportModule {}
