import { Controller, Inject } from '@nestjs/common';
import { TenantRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { TenantService } from './tenant.service.js';

/** The registry's requests; creation and the life-cycle verbs are the provisioning feature's. */
@Controller()
export class TenantNatsController {
  constructor(@Inject(TenantService) private readonly tenants: TenantService) {}

  @RpcHandler(TenantRpc.get)
  get(request: RpcPayload<typeof TenantRpc.get>) {
    return this.tenants.get(request.id);
  }

  @RpcHandler(TenantRpc.getBySlug)
  getBySlug(request: RpcPayload<typeof TenantRpc.getBySlug>) {
    return this.tenants.getBySlug(request.slug);
  }

  @RpcHandler(TenantRpc.list)
  list(request: RpcPayload<typeof TenantRpc.list>) {
    return this.tenants.list(request);
  }

  @RpcHandler(TenantRpc.update)
  update(request: RpcPayload<typeof TenantRpc.update>) {
    return this.tenants.update(request);
  }

  @RpcHandler(TenantRpc.changePlan)
  changePlan(request: RpcPayload<typeof TenantRpc.changePlan>) {
    return this.tenants.changePlan(request);
  }
}
