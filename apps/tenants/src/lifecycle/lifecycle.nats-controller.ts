import { Controller, Inject } from '@nestjs/common';
import { TenantRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { LifecycleService } from './lifecycle.service.js';

@Controller()
export class LifecycleNatsController {
  constructor(@Inject(LifecycleService) private readonly lifecycle: LifecycleService) {}

  @RpcHandler(TenantRpc.suspend)
  suspend(request: RpcPayload<typeof TenantRpc.suspend>) {
    return this.lifecycle.suspend(request);
  }

  @RpcHandler(TenantRpc.reactivate)
  reactivate(request: RpcPayload<typeof TenantRpc.reactivate>) {
    return this.lifecycle.reactivate(request);
  }

  @RpcHandler(TenantRpc.deprovision)
  deprovision(request: RpcPayload<typeof TenantRpc.deprovision>) {
    return this.lifecycle.deprovision(request);
  }

  @RpcHandler(TenantRpc.cancelDeprovision)
  cancelDeprovision(request: RpcPayload<typeof TenantRpc.cancelDeprovision>) {
    return this.lifecycle.cancelDeprovision(request);
  }
}
