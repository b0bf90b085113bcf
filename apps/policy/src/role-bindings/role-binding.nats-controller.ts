import { Controller, Inject } from '@nestjs/common';
import { RoleBindingRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { RoleBindingService } from './role-binding.service.js';

@Controller()
export class RoleBindingNatsController {
  constructor(@Inject(RoleBindingService) private readonly bindings: RoleBindingService) {}

  @RpcHandler(RoleBindingRpc.create)
  create(request: RpcPayload<typeof RoleBindingRpc.create>) {
    return this.bindings.create(request);
  }

  @RpcHandler(RoleBindingRpc.get)
  get(request: RpcPayload<typeof RoleBindingRpc.get>) {
    return this.bindings.get(request.tenantId, request.bindingId);
  }

  @RpcHandler(RoleBindingRpc.list)
  list(request: RpcPayload<typeof RoleBindingRpc.list>) {
    return this.bindings.list(request);
  }

  @RpcHandler(RoleBindingRpc.delete)
  delete(request: RpcPayload<typeof RoleBindingRpc.delete>) {
    return this.bindings.delete(request.tenantId, request.bindingId);
  }
}
