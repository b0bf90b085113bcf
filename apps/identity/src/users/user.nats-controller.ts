import { Controller, Inject } from '@nestjs/common';
import { UserRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { UserService } from './user.service.js';

@Controller()
export class UserNatsController {
  constructor(@Inject(UserService) private readonly users: UserService) {}

  @RpcHandler(UserRpc.create)
  create(request: RpcPayload<typeof UserRpc.create>) {
    return this.users.create(request);
  }

  @RpcHandler(UserRpc.get)
  get(request: RpcPayload<typeof UserRpc.get>) {
    return this.users.get(request.tenantId, request.userId);
  }

  @RpcHandler(UserRpc.list)
  list(request: RpcPayload<typeof UserRpc.list>) {
    return this.users.list(request);
  }

  @RpcHandler(UserRpc.update)
  update(request: RpcPayload<typeof UserRpc.update>) {
    return this.users.update(request);
  }

  @RpcHandler(UserRpc.disable)
  disable(request: RpcPayload<typeof UserRpc.disable>) {
    return this.users.disable(request.tenantId, request.userId);
  }

  @RpcHandler(UserRpc.enable)
  enable(request: RpcPayload<typeof UserRpc.enable>) {
    return this.users.enable(request.tenantId, request.userId);
  }

  @RpcHandler(UserRpc.delete)
  delete(request: RpcPayload<typeof UserRpc.delete>) {
    return this.users.delete(request.tenantId, request.userId);
  }

  @RpcHandler(UserRpc.resendInvitation)
  resendInvitation(request: RpcPayload<typeof UserRpc.resendInvitation>) {
    return this.users.resendInvitation(request.tenantId, request.userId);
  }

  @RpcHandler(UserRpc.changePassword)
  changePassword(request: RpcPayload<typeof UserRpc.changePassword>) {
    return this.users.changePassword(request);
  }
}
