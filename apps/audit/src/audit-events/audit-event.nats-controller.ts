import { Controller, Inject } from '@nestjs/common';
import { AuditEventRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { AuditEventService } from './audit-event.service.js';

@Controller()
export class AuditEventNatsController {
  constructor(@Inject(AuditEventService) private readonly events: AuditEventService) {}

  @RpcHandler(AuditEventRpc.list)
  list(request: RpcPayload<typeof AuditEventRpc.list>) {
    return this.events.list(request);
  }
}
