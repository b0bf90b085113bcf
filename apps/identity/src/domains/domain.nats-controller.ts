import { Controller, Inject } from '@nestjs/common';
import { DomainRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { DomainService } from './domain.service.js';

@Controller()
export class DomainNatsController {
  constructor(@Inject(DomainService) private readonly domains: DomainService) {}

  @RpcHandler(DomainRpc.create)
  create(request: RpcPayload<typeof DomainRpc.create>) {
    return this.domains.create(request);
  }

  @RpcHandler(DomainRpc.get)
  get(request: RpcPayload<typeof DomainRpc.get>) {
    return this.domains.get(request);
  }

  @RpcHandler(DomainRpc.list)
  list(request: RpcPayload<typeof DomainRpc.list>) {
    return this.domains.list(request);
  }

  @RpcHandler(DomainRpc.verify)
  verify(request: RpcPayload<typeof DomainRpc.verify>) {
    return this.domains.verify(request);
  }

  @RpcHandler(DomainRpc.delete)
  delete(request: RpcPayload<typeof DomainRpc.delete>) {
    return this.domains.delete(request);
  }
}
