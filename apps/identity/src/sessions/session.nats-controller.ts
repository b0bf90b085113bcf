import { Controller, Inject } from '@nestjs/common';
import { SessionRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { SessionService } from './session.service.js';

@Controller()
export class SessionNatsController {
  constructor(@Inject(SessionService) private readonly sessions: SessionService) {}

  @RpcHandler(SessionRpc.list)
  list(request: RpcPayload<typeof SessionRpc.list>) {
    return this.sessions.list(request.tenantId, request.userId);
  }

  @RpcHandler(SessionRpc.revoke)
  revoke(request: RpcPayload<typeof SessionRpc.revoke>) {
    return this.sessions.revoke(request.tenantId, request.userId, request.sessionId);
  }

  @RpcHandler(SessionRpc.revokeAll)
  revokeAll(request: RpcPayload<typeof SessionRpc.revokeAll>) {
    return this.sessions.revokeAll(request.tenantId, request.userId, request.exceptSessionId);
  }
}
