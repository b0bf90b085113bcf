import { Controller, Inject } from '@nestjs/common';
import { PolicyRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { PolicyService } from './policy.service.js';

@Controller()
export class PolicyNatsController {
  constructor(@Inject(PolicyService) private readonly policies: PolicyService) {}

  @RpcHandler(PolicyRpc.create)
  create(request: RpcPayload<typeof PolicyRpc.create>) {
    return this.policies.create(request);
  }

  @RpcHandler(PolicyRpc.get)
  get(request: RpcPayload<typeof PolicyRpc.get>) {
    return this.policies.get(request.tenantId, request.policyId);
  }

  @RpcHandler(PolicyRpc.list)
  list(request: RpcPayload<typeof PolicyRpc.list>) {
    return this.policies.list(request);
  }

  @RpcHandler(PolicyRpc.update)
  update(request: RpcPayload<typeof PolicyRpc.update>) {
    return this.policies.update(request);
  }

  @RpcHandler(PolicyRpc.delete)
  delete(request: RpcPayload<typeof PolicyRpc.delete>) {
    return this.policies.delete(request.tenantId, request.policyId);
  }
}
