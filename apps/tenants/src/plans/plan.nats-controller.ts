import { Controller, Inject } from '@nestjs/common';
import { PlanRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import { PlanService } from './plan.service.js';

@Controller()
export class PlanNatsController {
  constructor(@Inject(PlanService) private readonly plans: PlanService) {}

  @RpcHandler(PlanRpc.list)
  list() {
    return this.plans.list();
  }

  @RpcHandler(PlanRpc.get)
  get(request: RpcPayload<typeof PlanRpc.get>) {
    return this.plans.get(request.key);
  }

  @RpcHandler(PlanRpc.update)
  update(request: RpcPayload<typeof PlanRpc.update>) {
    return this.plans.update(request);
  }
}
