import { Controller, Inject } from '@nestjs/common';
import { BulkOperationRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { BulkOperationService } from './bulk-operation.service.js';

@Controller()
export class BulkOperationNatsController {
  constructor(@Inject(BulkOperationService) private readonly bulk: BulkOperationService) {}

  @RpcHandler(BulkOperationRpc.createTenants)
  createTenants(request: RpcPayload<typeof BulkOperationRpc.createTenants>) {
    return this.bulk.createTenants(request);
  }

  @RpcHandler(BulkOperationRpc.createUsers)
  createUsers(request: RpcPayload<typeof BulkOperationRpc.createUsers>) {
    return this.bulk.createUsers(request);
  }

  @RpcHandler(BulkOperationRpc.get)
  get(request: RpcPayload<typeof BulkOperationRpc.get>) {
    return this.bulk.get(request.id);
  }
}
