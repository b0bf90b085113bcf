import { Controller, Inject } from '@nestjs/common';
import { AuditEventRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { AuditExportService } from './audit-export.service.js';

/** The export of a tenant's ledger, as the gateway streams it (`audit.events.export-*`). */
@Controller()
export class AuditExportNatsController {
  constructor(@Inject(AuditExportService) private readonly exports: AuditExportService) {}

  @RpcHandler(AuditEventRpc.exportBegin)
  begin(request: RpcPayload<typeof AuditEventRpc.exportBegin>) {
    return this.exports.begin(request);
  }

  @RpcHandler(AuditEventRpc.exportPage)
  page(request: RpcPayload<typeof AuditEventRpc.exportPage>) {
    return this.exports.page(request);
  }

  @RpcHandler(AuditEventRpc.exportProof)
  proof(request: RpcPayload<typeof AuditEventRpc.exportProof>) {
    return this.exports.proof(request);
  }
}
