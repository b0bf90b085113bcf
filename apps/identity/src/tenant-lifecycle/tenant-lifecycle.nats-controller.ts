import { Controller, Inject } from '@nestjs/common';
import { TenantLifecycleRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { TenantLifecycleService } from './tenant-lifecycle.service.js';

const Rpc = TenantLifecycleRpc.identity;

/** Identity's answers to the tenants service's provisioning and lifecycle runs. */
@Controller()
export class TenantLifecycleNatsController {
  constructor(@Inject(TenantLifecycleService) private readonly lifecycle: TenantLifecycleService) {}

  @RpcHandler(Rpc.bootstrap)
  bootstrap(request: RpcPayload<typeof Rpc.bootstrap>) {
    return this.lifecycle.bootstrap(request);
  }

  @RpcHandler(Rpc.compensate)
  compensate(request: RpcPayload<typeof Rpc.compensate>) {
    return this.lifecycle.compensate(request);
  }

  @RpcHandler(Rpc.configure)
  configure(request: RpcPayload<typeof Rpc.configure>) {
    return this.lifecycle.configure(request);
  }

  @RpcHandler(Rpc.verify)
  verify(request: RpcPayload<typeof Rpc.verify>) {
    return this.lifecycle.verify(request);
  }

  @RpcHandler(Rpc.usage)
  usage(request: RpcPayload<typeof Rpc.usage>) {
    return this.lifecycle.usage(request.tenantId);
  }

  @RpcHandler(Rpc.suspend)
  suspend(request: RpcPayload<typeof Rpc.suspend>) {
    return this.lifecycle.suspend(request.tenantId, request.reason);
  }

  @RpcHandler(Rpc.export)
  export(request: RpcPayload<typeof Rpc.export>) {
    return this.lifecycle.export(request.tenantId);
  }

  @RpcHandler(Rpc.remove)
  remove(request: RpcPayload<typeof Rpc.remove>) {
    return this.lifecycle.remove(request.tenantId);
  }
}
