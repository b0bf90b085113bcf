import { Controller, Inject } from '@nestjs/common';
import { SsoConnectionRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { SsoConnectionService } from './sso-connection.service.js';

@Controller()
export class SsoConnectionNatsController {
  constructor(@Inject(SsoConnectionService) private readonly connections: SsoConnectionService) {}

  @RpcHandler(SsoConnectionRpc.create)
  create(request: RpcPayload<typeof SsoConnectionRpc.create>) {
    return this.connections.create(request);
  }

  @RpcHandler(SsoConnectionRpc.get)
  get(request: RpcPayload<typeof SsoConnectionRpc.get>) {
    return this.connections.get(request);
  }

  @RpcHandler(SsoConnectionRpc.list)
  list(request: RpcPayload<typeof SsoConnectionRpc.list>) {
    return this.connections.list(request);
  }

  @RpcHandler(SsoConnectionRpc.update)
  update(request: RpcPayload<typeof SsoConnectionRpc.update>) {
    return this.connections.update(request);
  }

  @RpcHandler(SsoConnectionRpc.delete)
  delete(request: RpcPayload<typeof SsoConnectionRpc.delete>) {
    return this.connections.delete(request);
  }

  @RpcHandler(SsoConnectionRpc.spMetadata)
  spMetadata(request: RpcPayload<typeof SsoConnectionRpc.spMetadata>) {
    return this.connections.spMetadata(request);
  }
}
