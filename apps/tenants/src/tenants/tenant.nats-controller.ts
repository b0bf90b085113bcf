import { Controller, Inject } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { TenantsRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { TenantService } from './tenant.service.js';

@Controller()
export class TenantNatsController {
  constructor(@Inject(TenantService) private readonly tenants: TenantService) {}

  @RpcHandler(TenantsRpc.create)
  create(@Payload() request: RpcPayload<typeof TenantsRpc.create>) {
    return this.tenants.create(request);
  }

  @RpcHandler(TenantsRpc.get)
  get(@Payload() request: RpcPayload<typeof TenantsRpc.get>) {
    return this.tenants.get(request.id);
  }

  @RpcHandler(TenantsRpc.list)
  list(@Payload() request: RpcPayload<typeof TenantsRpc.list>) {
    return this.tenants.list(request.limit, request.cursor);
  }
}
