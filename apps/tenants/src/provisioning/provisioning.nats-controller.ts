import { Controller, Inject } from '@nestjs/common';
import { ProvisioningRpc, TemplateRpc, TenantRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { ProvisioningService } from './provisioning.service.js';

@Controller()
export class ProvisioningNatsController {
  constructor(@Inject(ProvisioningService) private readonly provisioning: ProvisioningService) {}

  @RpcHandler(TenantRpc.create)
  create(request: RpcPayload<typeof TenantRpc.create>) {
    return this.provisioning.provisionNew(request);
  }

  @RpcHandler(TemplateRpc.instantiate)
  instantiate(request: RpcPayload<typeof TemplateRpc.instantiate>) {
    return this.provisioning.instantiate(request);
  }

  @RpcHandler(ProvisioningRpc.get)
  get(request: RpcPayload<typeof ProvisioningRpc.get>) {
    return this.provisioning.get(request.tenantId);
  }

  @RpcHandler(ProvisioningRpc.list)
  list(request: RpcPayload<typeof ProvisioningRpc.list>) {
    return this.provisioning.list(request.tenantId);
  }

  @RpcHandler(ProvisioningRpc.retry)
  retry(request: RpcPayload<typeof ProvisioningRpc.retry>) {
    return this.provisioning.retry(request.tenantId);
  }
}
