import { Controller, Inject } from '@nestjs/common';
import { QueueOpsRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { QueueOpsService } from './queue-ops.service.js';

@Controller()
export class QueueOpsNatsController {
  constructor(@Inject(QueueOpsService) private readonly ops: QueueOpsService) {}

  @RpcHandler(QueueOpsRpc.summary)
  summary() {
    return this.ops.summary();
  }

  @RpcHandler(QueueOpsRpc.jobs)
  jobs(request: RpcPayload<typeof QueueOpsRpc.jobs>) {
    return this.ops.jobs(request);
  }

  @RpcHandler(QueueOpsRpc.retry)
  retry(request: RpcPayload<typeof QueueOpsRpc.retry>) {
    return this.ops.retry(request);
  }
}
