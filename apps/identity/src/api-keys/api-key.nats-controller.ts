import { Controller, Inject } from '@nestjs/common';
import { ApiKeyRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { ApiKeyService } from './api-key.service.js';

@Controller()
export class ApiKeyNatsController {
  constructor(@Inject(ApiKeyService) private readonly apiKeys: ApiKeyService) {}

  @RpcHandler(ApiKeyRpc.create)
  create(request: RpcPayload<typeof ApiKeyRpc.create>) {
    return this.apiKeys.create(request);
  }

  @RpcHandler(ApiKeyRpc.get)
  get(request: RpcPayload<typeof ApiKeyRpc.get>) {
    return this.apiKeys.get(request);
  }

  @RpcHandler(ApiKeyRpc.list)
  list(request: RpcPayload<typeof ApiKeyRpc.list>) {
    return this.apiKeys.list(request);
  }

  @RpcHandler(ApiKeyRpc.rotate)
  rotate(request: RpcPayload<typeof ApiKeyRpc.rotate>) {
    return this.apiKeys.rotate(request);
  }

  @RpcHandler(ApiKeyRpc.revoke)
  revoke(request: RpcPayload<typeof ApiKeyRpc.revoke>) {
    return this.apiKeys.revoke(request);
  }

  @RpcHandler(ApiKeyRpc.verify)
  verify(request: RpcPayload<typeof ApiKeyRpc.verify>) {
    return this.apiKeys.verify(request.key);
  }
}
