import { Controller, Inject } from '@nestjs/common';
import { OrganizationRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { OrganizationService } from './organization.service.js';

@Controller()
export class OrganizationNatsController {
  constructor(@Inject(OrganizationService) private readonly organizations: OrganizationService) {}

  @RpcHandler(OrganizationRpc.create)
  create(request: RpcPayload<typeof OrganizationRpc.create>) {
    return this.organizations.create(request);
  }

  @RpcHandler(OrganizationRpc.get)
  get(request: RpcPayload<typeof OrganizationRpc.get>) {
    return this.organizations.get(request);
  }

  @RpcHandler(OrganizationRpc.list)
  list(request: RpcPayload<typeof OrganizationRpc.list>) {
    return this.organizations.list(request);
  }

  @RpcHandler(OrganizationRpc.update)
  update(request: RpcPayload<typeof OrganizationRpc.update>) {
    return this.organizations.update(request);
  }

  @RpcHandler(OrganizationRpc.move)
  move(request: RpcPayload<typeof OrganizationRpc.move>) {
    return this.organizations.move(request);
  }

  @RpcHandler(OrganizationRpc.delete)
  delete(request: RpcPayload<typeof OrganizationRpc.delete>) {
    return this.organizations.delete(request);
  }
}
