import { Controller, Inject } from '@nestjs/common';
import { AuditEventRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { AuditSearchService } from './audit-search.service.js';

/** The search over a tenant's audit log (`audit.events.list`). */
@Controller()
export class AuditSearchNatsController {
  constructor(@Inject(AuditSearchService) private readonly search: AuditSearchService) {}

  @RpcHandler(AuditEventRpc.list)
  list(request: RpcPayload<typeof AuditEventRpc.list>) {
    return this.search.search(request);
  }
}
