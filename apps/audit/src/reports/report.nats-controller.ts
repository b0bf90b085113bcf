import { Controller, Inject } from '@nestjs/common';
import { AuditReportRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { ReportService } from './report.service.js';

@Controller()
export class ReportNatsController {
  constructor(@Inject(ReportService) private readonly reports: ReportService) {}

  @RpcHandler(AuditReportRpc.accessReview)
  accessReview(request: RpcPayload<typeof AuditReportRpc.accessReview>) {
    return this.reports.accessReview(request);
  }

  @RpcHandler(AuditReportRpc.subjectAccess)
  subjectAccess(request: RpcPayload<typeof AuditReportRpc.subjectAccess>) {
    return this.reports.subjectAccess(request);
  }

  @RpcHandler(AuditReportRpc.configurationChanges)
  configurationChanges(request: RpcPayload<typeof AuditReportRpc.configurationChanges>) {
    return this.reports.configurationChanges(request);
  }
}
