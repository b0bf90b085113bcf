import { Controller, Inject } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { AuditRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { AuditEventService } from './audit-event.service.js';

@Controller()
export class AuditEventNatsController {
  constructor(@Inject(AuditEventService) private readonly events: AuditEventService) {}

  @RpcHandler(AuditRpc.list)
  list(@Payload() request: RpcPayload<typeof AuditRpc.list>) {
    return this.events.list(request.tenantId, request.limit, request.cursor);
  }
}
