import { Controller, Inject } from '@nestjs/common';
import { RoleRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { RoleService } from './role.service.js';

@Controller()
export class RoleNatsController {
  constructor(@Inject(RoleService) private readonly roles: RoleService) {}

  @RpcHandler(RoleRpc.create)
  create(request: RpcPayload<typeof RoleRpc.create>) {
    return this.roles.create(request);
  }

  @RpcHandler(RoleRpc.get)
  get(request: RpcPayload<typeof RoleRpc.get>) {
    return this.roles.get(request.tenantId, request.roleId);
  }

  @RpcHandler(RoleRpc.list)
  list(request: RpcPayload<typeof RoleRpc.list>) {
    return this.roles.list(request);
  }

  @RpcHandler(RoleRpc.update)
  update(request: RpcPayload<typeof RoleRpc.update>) {
    return this.roles.update(request);
  }

  @RpcHandler(RoleRpc.delete)
  delete(request: RpcPayload<typeof RoleRpc.delete>) {
    return this.roles.delete(request.tenantId, request.roleId);
  }
}
