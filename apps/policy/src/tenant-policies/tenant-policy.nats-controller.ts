import { Controller, Inject } from '@nestjs/common';
import { TenantPolicyRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { TenantPolicyService } from './tenant-policy.service.js';

@Controller()
export class TenantPolicyNatsController {
  constructor(@Inject(TenantPolicyService) private readonly policies: TenantPolicyService) {}

  @RpcHandler(TenantPolicyRpc.get)
  get(request: RpcPayload<typeof TenantPolicyRpc.get>) {
    return this.policies.get(request.tenantId);
  }
}
