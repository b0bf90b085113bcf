import { Controller, Inject } from '@nestjs/common';
import { TenantRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { TenantService } from './tenant.service.js';

@Controller()
export class TenantNatsController {
  constructor(@Inject(TenantService) private readonly tenants: TenantService) {}

  @RpcHandler(TenantRpc.create)
  create(request: RpcPayload<typeof TenantRpc.create>) {
    return this.tenants.create(request);
  }

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
}
