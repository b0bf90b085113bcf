import { Controller, Inject } from '@nestjs/common';
import { TenantLifecycleRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { TenantLifecycleService } from './tenant-lifecycle.service.js';

const rpc = TenantLifecycleRpc.audit;

/** `audit.tenant-lifecycle.*`: what the provisioning pipeline asks of the audit service. */
@Controller()
export class TenantLifecycleNatsController {
  constructor(@Inject(TenantLifecycleService) private readonly lifecycle: TenantLifecycleService) {}

  @RpcHandler(rpc.bootstrap)
  bootstrap(request: RpcPayload<typeof rpc.bootstrap>) {
    return this.lifecycle.bootstrap(request);
  }

  @RpcHandler(rpc.compensate)
  compensate(request: RpcPayload<typeof rpc.compensate>) {
    return this.lifecycle.compensate(request);
  }

  @RpcHandler(rpc.configure)
  configure(request: RpcPayload<typeof rpc.configure>) {
    return this.lifecycle.configure(request);
  }

  @RpcHandler(rpc.verify)
  verify(request: RpcPayload<typeof rpc.verify>) {
    return this.lifecycle.verify(request);
  }

  @RpcHandler(rpc.usage)
  usage(request: RpcPayload<typeof rpc.usage>) {
    return this.lifecycle.usage(request.tenantId);
  }

  @RpcHandler(rpc.suspend)
  suspend() {
    return this.lifecycle.suspend();
  }

  @RpcHandler(rpc.export)
  export(request: RpcPayload<typeof rpc.export>) {
    return this.lifecycle.export(request.tenantId);
  }

  @RpcHandler(rpc.remove)
  remove(request: RpcPayload<typeof rpc.remove>) {
    return this.lifecycle.remove(request.tenantId);
  }
}
